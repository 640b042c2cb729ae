"""Keep the translation catalogs in step with the code (a maintainer's tool, not run in use).

``python -m service.web.catalogs`` extracts every message of the templates and the console's
Python modules, adds new ones to each ``messages.po`` (untranslated) and drops ones no longer
used; the test suite fails while any message lacks a translation.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("*.py", "python")]
# Modules of the domain whose words the console shows: findings marked ``N_``, and the help
# text of each policy setting (the second argument of ``setting``).
DOMAIN_MODULES = (("egress", "findings.py", {"N_": None}),
                  ("policies", "sections.py", {"setting": (2,)}))
# Packages whose errors a user reads, and the error classes whose first argument is a
# sentence's template (``NotFound("no job {job_id}", job_id=...)``); ``identifier`` and
# ``text`` name the field they check ("output name"), which an error sentence then holds.
ERROR_PACKAGES = ("accounts", "cases", "catalog", "commerce", "egress", "sandbox", "storage", "synth",
                  "notices",
                  "anonymize", "reporting", "actions", "service")
ERROR_MODULES = ("policies/permissions.py", "policies/lifecycle.py")  # the rest: policy files
ERROR_CLASSES = ("AccountError", "AnonymizeError", "BadPeriod", "BadQuery", "BadReport", "CaseError",
                 "CaseNotFound", "CatalogError", "InvalidCase", "CommerceError",
                 "InvalidCommerce", "ProductNotFound", "CommerceConflict",
                 "Conflict", "DomainError", "EgressError", "Forbidden", "GrantUnusable",
                 "GraphUnavailable", "InvalidInput", "InvalidRequest", "MailUnavailable",
                 "MoveRefused", "NotFound", "NotInitialized", "NoticeError", "OperatorError",
                 "PublicPagesOff",
                 "PrivacyError", "QueryRefused", "ReviewRefused", "SandboxError",
                 "ServiceError", "SignInRequired", "StaleForm", "StillSending", "StorageError",
                 "StorageFull", "StorageUnavailable", "StoreUnavailable", "SynthError",
                 "Unauthenticated")
ERROR_KEYWORDS = {name: None for name in ERROR_CLASSES} | {"identifier": (2,), "text": (2,)}
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true",
                                 "trim_blocks": "true", "lstrip_blocks": "true"}}


def root() -> Path:
    return Path(str(resources.files("service.web")))


def extract() -> Catalog:
    catalog = Catalog(project="tds-console", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(root()), METHODS, OPTIONS):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    for package in ERROR_PACKAGES + ERROR_MODULES:
        name, _, module = package.partition("/")
        folder = Path(str(resources.files(name)))
        for path in ([folder / module] if module else sorted(folder.rglob("*.py"))):
            if "migrations" in path.parts:
                continue
            for lineno, message, comments, context in extract_from_file(
                    "python", str(path), keywords=ERROR_KEYWORDS):
                catalog.add(message, None, [(str(path.relative_to(folder.parent)), lineno)],
                            auto_comments=comments, context=context)
    for package, module, keywords in DOMAIN_MODULES:
        path = Path(str(resources.files(package))) / module
        for lineno, message, comments, context in extract_from_file("python", str(path),
                                                                   keywords=keywords):
            catalog.add(message, None, [(f"{package}/{module}", lineno)],
                        auto_comments=comments, context=context)
    return catalog


def po_path(lang: str) -> Path:
    return root() / "locale" / lang / "LC_MESSAGES" / "messages.po"


def update(lang: str) -> list[str]:
    """Merge the extracted messages into ``lang``'s catalog; return the untranslated ids."""
    path = po_path(lang)
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    catalog.update(extract(), no_fuzzy_matching=True)
    catalog.obsolete.clear()
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, sort_output=True,
                 include_lineno=False)
    return [m.id if isinstance(m.id, str) else m.id[0] for m in catalog
            if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)]


def needs_label(message: str) -> bool:
    """An identifier of the domain shown as a word (``in_review``, ``mitigation:round``): the
    English catalog must give it a label; other English messages are their own ids."""
    return " " not in message and ("_" in message or ":" in message)


def main() -> None:
    missing = update("zh_CN")
    missing += [m for m in update("en") if needs_label(m)]
    for message in missing:
        print(f"untranslated: {message}")
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
