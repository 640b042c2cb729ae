"""Human words for the domain's codes (entity types, Arrow types, domains, ledger actions,
lineage nodes), as Jinja filters. A code the catalogs have no word for is shown as it is,
marked as data (``translate="no"``) so neither a reader nor the language check takes it for
interface text."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

from egress.findings import FINDINGS
from service.web import i18n


def data(value: Any) -> Markup:
    """A value from the data (a name, a title, an id), marked as not to be translated."""
    return Markup('<span translate="no">{}</span>').format("—" if value in (None, "") else value)


def _word(prefix: str, code: Any) -> Markup:
    if code in (None, ""):
        return Markup("—")
    key = f"{prefix}:{code}"
    word = i18n.gettext(key)
    return escape(word) if word != key else data(code)


def entity(code: str | None) -> Markup:
    """``CN_RESIDENT_ID`` → 居民身份证号 / Resident ID."""
    return _word("entity", code)


def domain(code: str | None) -> Markup:
    return _word("domain", code)


def action(code: str | None) -> Markup:
    """A ledger action (``egress.released``) in words."""
    return _word("action", code)


def node(ref: str | None) -> Markup:
    """A lineage node or ledger subject (``release:1``): its kind in words, then its id."""
    if not ref:
        return Markup("—")
    kind, _, rest = str(ref).partition(":")
    if not rest:
        return data(ref)
    return Markup("{} {}").format(_word("node", kind), data(rest))


# Arrow's type names by kind (``int64``, ``decimal128(10, 2)``, ``date32[day]``, …).
_KINDS = (
    (re.compile(r"u?int\d*$"), "integer"),
    (re.compile(r"(double|float\d*|halffloat|decimal\d*\(.*\))$"), "decimal"),
    (re.compile(r"(large_)?string$|string_view$"), "text"),
    (re.compile(r"date\d+(\[\w+\])?$"), "date"),
    (re.compile(r"time\d+(\[\w+\])?$"), "time"),
    (re.compile(r"timestamp\[.*\]$"), "timestamp"),
    (re.compile(r"bool$"), "boolean"),
    (re.compile(r"(large_)?binary$"), "binary"),
    (re.compile(r"(large_)?list<.*>$"), "list"),
    (re.compile(r"struct<.*>$"), "struct"),
    (re.compile(r"null$"), "null"),
)


def arrow_type(name: str | None) -> Markup:
    """An Arrow type by kind (整数 / integer); the exact type stays in ``data-type``."""
    if not name:
        return Markup("—")
    for pattern, kind in _KINDS:
        if pattern.match(name):
            key = f"type:{kind}"  # its words are vocabulary.TYPE_LABELS
            return Markup('<span data-type="{}">{}</span>').format(name, i18n.gettext(key))
    return data(name)


def finding(check: dict[str, Any]) -> Markup:
    """A check's finding in the reader's language, its arguments (names, columns, numbers)
    marked as data. A request checked before findings had codes shows its English message."""
    code = check.get("code")
    if code not in FINDINGS:
        return data(check.get("message"))
    args: dict[str, Any] = {k: data(v) for k, v in (check.get("args") or {}).items()}
    if code in ("disclosure.flagged", "disclosure.suppressed"):  # rule names are words of the interface
        counts = (check.get("details") or {}).get("counts") or {}
        args["summary"] = ", ".join(f"{i18n.gettext(rule)}: {i18n.number(n)}"
                                    for rule, n in sorted(counts.items()))
    template = i18n.gettext(FINDINGS[code])
    return Markup(escape(template)) % args if "%(" in template else escape(template)


_IDENTIFIER = re.compile(r"\b[A-Za-z]+(?:[._][A-Za-z]+)+\b")


def with_codes(text: str) -> Markup:
    """Prose that names settings (``safe_nk_k``, ``catalog.max_upload_bytes``): those names
    set as code, the rest as it is."""
    return Markup(_IDENTIFIER.sub(lambda m: f"<code>{m.group(0)}</code>", str(escape(text))))


FILTERS = {"data": data, "entity": entity, "domain": domain, "action": action, "node": node,
           "arrow_type": arrow_type, "finding": finding,
           "with_codes": with_codes}
