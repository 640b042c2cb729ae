"""Automatic checks of an egress request; each a small named check with a verdict."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from anonymize.entities import PERSONAL_ENTITIES
from catalog.models import Grant
from egress.cells import Shape
from egress.disclosure import Assessment
from egress.findings import text, traced_pairs
from policies import Policy
from sandbox.columns import column_lineage
from sandbox.models import Job, OwnData
from vault.files import read_table

PASS, REVIEW, FAIL = "pass", "review", "fail"
CHECK_NAMES = ("scope", "sources", "raw_exposure", "personal_information", "trade_secrets",
               "disclosure", "differencing", "cross_border")


@dataclass
class CheckResult:
    """A check's verdict and its finding: a code of :mod:`egress.findings` with arguments (the
    message is its English text; the console shows it in the reader's language)."""

    name: str
    verdict: str
    code: str
    args: dict[str, Any] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return text(self.code, self.args)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "verdict": self.verdict, "message": self.message,
                "code": self.code, "args": self.args, "columns": self.columns,
                "details": self.details}


def datasets_read(session: Session, job: Job) -> dict[str, dict[str, Any]]:
    """Datasets a job read, directly or through earlier outputs it selected from."""
    return _read(session, job, "dataset")


def own_read(session: Session, job: Job) -> dict[str, dict[str, Any]]:
    """The merchant's own tables a job read, directly or through earlier outputs."""
    return _read(session, job, "own")


def sources_read(session: Session, job: Job) -> dict[str, dict[str, Any]]:
    """What a product's declared sources must name: datasets and the merchant's own tables."""
    return datasets_read(session, job) | own_read(session, job)


def _read(session: Session, job: Job, kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, source in (job.sources or {}).items():
        if source.get("kind") == kind:
            found[name] = source
        elif source.get("kind") == "output":
            earlier = session.get(Job, source["job_id"])
            if earlier is not None and earlier.id != job.id:
                found.update(_read(session, earlier, kind))
    return found


def lineage(session: Session, job: Job) -> dict[str, Any]:
    """Each output column of ``job`` traced to the dataset columns it is computed from, through
    earlier outputs it read (DuckDB's parse tree checked against its plan,
    :mod:`sandbox.columns`). ``exact`` is False when the query's shape made the trace fall back
    to every column the query mentions or reads."""
    tables: dict[str, list[str]] = {}
    types: dict[str, dict[str, str]] = {}
    earlier: dict[str, Job] = {}
    grant = session.get(Grant, job.grant_id)
    schemas = {item.dataset_version.dataset.name: item.dataset_version.schema
               for item in (grant.items if grant is not None else [])}
    for name, source in (job.sources or {}).items():
        if source.get("kind") in ("dataset", "own"):
            tables[name] = list(source.get("columns", []))
            own = session.get(OwnData, source["own_id"]) if source.get("own_id") else None
            types[name] = {c["name"]: c["type"] for c in (
                own.schema if own is not None else schemas.get(name, []))}
        elif source.get("kind") == "output":
            found = session.get(Job, source["job_id"])
            if found is not None and found.id != job.id:
                earlier[name] = found
                tables[name] = [c["name"] for c in found.output_schema or []]
                types[name] = {c["name"]: c["type"] for c in found.output_schema or []}
    outputs = [c["name"] for c in job.output_schema or []]
    # checked against the query's plan: what the parse tree missed is not exact
    traced = column_lineage(job.sql, tables, outputs, types)
    deeper = {table: lineage(session, found) for table, found in earlier.items()}
    exact = traced["exact"] and all(d["exact"] for d in deeper.values())
    columns: dict[str, list[list[str]]] = {}
    for output, pairs in traced["columns"].items():
        resolved: set[tuple[str, str]] = set()
        for table, column in pairs:
            if table in deeper:
                resolved.update(tuple(p) for p in deeper[table]["columns"].get(column, []))
            else:
                resolved.add((table, column))
        columns[output] = [list(p) for p in sorted(resolved)]
    return {"exact": exact, "columns": columns}


def scope(grant: Grant, job: Job, traced: dict[str, Any], product: str,
          purpose: str) -> CheckResult:
    """Purpose and scope (review point 1): every output column traced to granted columns, and
    the product one the approved application named."""
    granted = {item.dataset_version.dataset.name: set(item.columns) for item in grant.items}
    # The merchant's own tables are its own: every column of them is in scope.
    granted.update({name: set(source.get("columns", [])) for name, source in
                    (job.sources or {}).items() if source.get("kind") == "own"})
    outside = []
    for name, source in (job.sources or {}).items():
        if source.get("kind") == "dataset" and (
                name not in granted or not set(source.get("columns", [])) <= granted[name]):
            outside.append(name)
    ungranted = sorted(out for out, pairs in traced["columns"].items()
                       if any(t not in granted or c not in granted[t] for t, c in pairs))
    details = {"scenario": grant.application.scenario,
               "approved_purpose": grant.application.purpose[:500],
               "approved_products": grant.application.products[:500], "product": product,
               "stated_purpose": purpose[:500], "lineage": traced}
    if outside or ungranted:
        return CheckResult("scope", FAIL, "scope.outside", {}, outside + ungranted, details)
    if not grant.usable():
        return CheckResult("scope", FAIL, "scope.unusable", {"status": grant.status},
                           details=details)
    if not _names_product(grant.application.products, product):
        return CheckResult("scope", REVIEW, "scope.other_product", {
            "product": repr(product), "products": repr(grant.application.products[:100])},
            details=details)
    return CheckResult("scope", PASS, "scope.ok" if traced["exact"] else "scope.ok_inexact",
                       {"grant": grant.id, "scenario": repr(grant.application.scenario)},
                       details=details)


def _names_product(products: str, product: str) -> bool:
    normal = [p.strip().casefold() for p in re.split(r"[,，;；、\n]", products) if p.strip()]
    wanted = product.strip().casefold()
    return any(p == wanted or p in wanted or wanted in p for p in normal)


def sources(declared: list[str], read: dict[str, dict[str, Any]]) -> CheckResult:
    missing, extra = sorted(set(read) - set(declared)), sorted(set(declared) - set(read))
    details = {"read": {n: {"registration_no": s.get("registration_no"),
                            "version": s.get("version"), "kind": s.get("kind", "dataset")}
                        for n, s in sorted(read.items())}}
    if missing or extra:
        code = "sources.both" if missing and extra else \
            "sources.undeclared" if missing else "sources.unread"
        return CheckResult("sources", FAIL, code, {"undeclared": ", ".join(missing),
                                                   "unread": ", ".join(extra)}, details=details)
    return CheckResult("sources", PASS, "sources.ok",
                       details=details)


def personal_information(output: Path, policy: Policy, shape: Shape, traced: dict[str, Any],
                         grant: Grant, key: bytes | None = None) -> CheckResult:
    """A PII scan of every value, and the columns traced to pseudonymized identifier columns:
    a pseudonym is still personal information (it singles a person out), so it is known by
    where it comes from, never by how it looks (a padded raw ID looks like one too)."""
    from sandbox.jobs import pseudonymized_columns

    pseudonymous = _traced_to(traced, shape, {name: set(pseudonymized_columns(policy, item))
                                              for name, item in _items(grant).items()})
    table = read_table(output, key)
    from anonymize.scan import scan_table  # loads Presidio only when a request is checked

    scans = scan_table(table, sample_rows=None, min_share=policy.entity_min_share)
    dismissed = _dismissed(traced, grant)
    flagged = {}
    for s in scans:
        hits = {e: n for e, n in s.hits.items() if e not in dismissed.get(s.name, ())}
        if hits and max(hits.values()) / max(s.scanned, 1) > policy.pii_fail_share:
            flagged[s.name] = hits
    details: dict[str, Any] = {"pseudonymized": pseudonymous} if pseudonymous else {}
    if dismissed:
        details["dismissed"] = {c: sorted(e) for c, e in sorted(dismissed.items())}
    if flagged or pseudonymous:
        code = "pii.found_and_pseudonyms" if flagged and pseudonymous else \
            "pii.found" if flagged else "pii.pseudonyms"
        return CheckResult("personal_information", FAIL, code,
                           {"pairs": traced_pairs(pseudonymous)},
                           sorted(set(flagged) | set(pseudonymous)), {"hits": flagged, **details})
    return CheckResult("personal_information", PASS, "pii.none",
                       {"columns": table.num_columns, "rows": table.num_rows}, details=details)


def _dismissed(traced: dict[str, Any], grant: Grant) -> dict[str, set[str]]:
    """Entities the providers cleared an output column's sources of: the registration scan
    saw them in the column (as a suggestion or as hits below the suggestion's share) and the
    provider confirmed the column holds another entity, or none (金融 read as a name). Only
    for exactly traced columns, and only entities every source was cleared of: a column that
    also draws on a column nobody cleared keeps its hits (fail closed)."""
    if not traced.get("exact"):
        return {}
    cleared = {name: _cleared(item.dataset_version) for name, item in _items(grant).items()}
    found: dict[str, set[str]] = {}
    for column, sources in traced["columns"].items():
        sets = [cleared.get(table, {}).get(source, set()) for table, source in sources]
        common = set.intersection(*sets) if sets else set()
        if common:
            found[column] = common
    return found


def _cleared(version: Any) -> dict[str, set[str]]:
    """Per column of a version a provider confirmed: the entities its scan saw there that the
    provider's classification does not keep."""
    if version.classification != "confirmed":
        return {}
    seen = {scan["name"]: set(scan.get("hits") or {}) | ({scan["entity"]} - {None})
            for scan in version.pii or []}
    return {t["name"]: seen.get(t["name"], set()) - {t.get("entity")} for t in version.tags()}


def cross_border(abroad: bool, application_abroad: bool, policy: Policy) -> CheckResult:
    if abroad or application_abroad:
        return CheckResult("cross_border", REVIEW, "cross_border.abroad",
                           {"extra": policy.cross_border_extra_approvals})
    return CheckResult("cross_border", PASS, "cross_border.home")


def raw_exposure(shape: Shape, traced: dict[str, Any], grant: Grant, policy: Policy,
                 output: Path, key: bytes | None = None) -> CheckResult:
    """Raw or sensitive data exposed (review point 3): row-level outputs of any level need the
    level's k-anonymity on the catalog's quasi-identifiers (and fail without them); no key, nor
    aggregate value other than a count, may carry a raw (not pseudonymized) identifier column,
    whatever its values look like."""
    items = _items(grant)
    # Keys, and aggregate values other than counts: sum(CAST(id AS HUGEINT)) or
    # string_agg(hex(id)) carry an identifier as much as a key does; count(DISTINCT id) does not.
    carriers = None if shape.kind != "aggregate" else sorted(
        set(shape.keys) | {a.column for a in shape.aggregates if a.kind != "frequency"})
    raw = _traced_to(traced, shape, {name: _raw_identifiers(policy, item)
                                     for name, item in items.items()}, columns=carriers)
    details: dict[str, Any] = {"shape": shape.kind}
    if raw:
        return CheckResult("raw_exposure", FAIL, "raw.identifiers",
                           {"pairs": traced_pairs(raw)}, sorted(raw), details)
    if shape.kind == "aggregate":
        return CheckResult("raw_exposure", PASS, "raw.aggregate", details=details)
    if shape.kind == "unknown":
        return CheckResult("raw_exposure", REVIEW, shape.reason, shape.args, details=details)
    levels = sorted({item.dataset_version.dataset.level for name, item in items.items()
                     if any(t == name for pairs in traced["columns"].values() for t, _ in pairs)})
    if not levels:  # no column traced to a source: nothing to measure k on, nothing vouched for
        return CheckResult("raw_exposure", FAIL, "raw.untraced", details=details)
    k_min = max(policy.level(lv).k_min for lv in levels)
    quasi = sorted(_traced_to(traced, shape, {
        name: set(item.dataset_version.flagged("quasi_identifier"))
        for name, item in items.items()}, all_=True))
    details.update(k_min=k_min, quasi_identifiers=quasi, levels=levels)
    if not quasi:
        return CheckResult("raw_exposure", FAIL, "raw.no_quasi", {"levels": "/".join(levels)},
                           details=details)
    from anonymize.privacy import measure

    # Whether k reaches k_min, never k itself: the merchant reads the check (a draft's too),
    # and k is the size of the smallest class of real rows (k = 1: someone is unique).
    k = int(measure(read_table(output, key), quasi)["k"])
    details["k_reached"] = k >= k_min
    if k < k_min:
        return CheckResult("raw_exposure", FAIL, "raw.not_k_anonymous", {
            "levels": "/".join(levels), "k": k_min, "columns": ", ".join(quasi)}, quasi, details)
    return CheckResult("raw_exposure", REVIEW, "raw.k_anonymous",
                       {"k": k_min, "columns": ", ".join(quasi)}, details=details)


def trade_secrets(shape: Shape, traced: dict[str, Any], grant: Grant) -> CheckResult:
    """Trade secrets (review point 4): columns a provider marked confidential may appear in
    aggregates (dominance rules protect them), never at row level nor as a cell's key."""
    exposed = _traced_to(traced, shape, {
        name: set(item.dataset_version.flagged("confidential"))
        for name, item in _items(grant).items()})
    if exposed:
        return CheckResult("trade_secrets", FAIL, "secrets.cell_keys"
                           if shape.kind == "aggregate" else "secrets.rows",
                           {"pairs": traced_pairs(exposed)}, sorted(exposed))
    return CheckResult("trade_secrets", PASS, "secrets.none")


def _items(grant: Grant) -> dict[str, Any]:
    return {item.dataset_version.dataset.name: item for item in grant.items}


def _raw_identifiers(policy: Policy, item: Any) -> set[str]:
    from sandbox.jobs import pseudonymized_columns

    personal = {c for c, e in item.dataset_version.entity_columns().items()
                if e in PERSONAL_ENTITIES}
    return personal - set(pseudonymized_columns(policy, item))


def _traced_to(traced: dict[str, Any], shape: Shape, marked: dict[str, set[str]],
               all_: bool = False, columns: list[str] | None = None) -> dict[str, str]:
    """Output columns (``columns``; else keys only for aggregates, unless ``all_``) traced to
    one of the ``marked`` source columns (per dataset), with that source."""
    if columns is None:
        columns = shape.keys if shape.kind == "aggregate" and not all_ else list(traced["columns"])
    found = {}
    for column in columns:
        for table, source in traced["columns"].get(column, []):
            if source in marked.get(table, ()):
                found[column] = f"{table}.{source}"
    return found


def disclosure(shape: Shape, assessment: Assessment | None,
               problem: tuple[str, dict[str, Any]] | None = None,
               limit: int = 200) -> CheckResult:
    """Statistical disclosure control of aggregate outputs (ACRO's rules); ``problem`` is the
    finding (code, arguments) that kept the statistics from being computed."""
    if shape.kind == "row":
        return CheckResult("disclosure", PASS, "disclosure.row", details={"shape": "row"})
    if shape.kind == "unknown" or assessment is None:
        # Fail closed: what cannot be measured is not released unless a reviewer overrides it
        # for an exception the merchant justified.
        code, args = problem or (shape.reason, shape.args)
        return CheckResult("disclosure", FAIL, code, args, details={"shape": shape.kind})
    counts = assessment.counts()
    flagged = []
    for rule, columns in assessment.marks.items():
        for column, mask in columns.items():
            for row in np.flatnonzero(mask)[: max(limit - len(flagged), 0)]:
                flagged.append({"row": int(row), "column": column, "rule": rule})
    details = {"shape": "aggregate", "cells": assessment.rows * len(
        [c for c in assessment.columns if c not in assessment.keys]), "rows": assessment.rows,
        "counts": counts, "flagged": flagged, "margins": shape.margins, "keys": shape.keys,
        "statistics": {a.column: a.kind for a in shape.aggregates}}
    verdict = assessment.verdict()
    if verdict == PASS:
        return CheckResult("disclosure", PASS, "disclosure.ok", {"cells": details["cells"]},
                           details=details)
    summary = ", ".join(f"{rule}: {n}" for rule, n in sorted(counts.items()))
    return CheckResult("disclosure", verdict, "disclosure.flagged", {"summary": summary},
                       sorted({f["column"] for f in flagged}), details)


def differencing(found: list[dict[str, Any]], threshold: int, compared: int,
                 recovered: list[dict[str, Any]] | None = None) -> CheckResult:
    """Cells that differ from another output's (or a margin's) by a few source rows, and
    suppressed cells that this output would let be recovered by subtraction. The check keeps
    which cells and where, never the counts: the merchant reads it (a draft's too), and exact
    small counts of real data would be an oracle."""
    recovered = recovered or []
    details = {"threshold": threshold, "compared_with": compared, "differences": found,
               "recoverable": recovered}
    if recovered:
        first = recovered[0]
        return CheckResult("differencing", FAIL, "differencing.recoverable", {
            "n": len(recovered), "cell": first["cell"], "suppressed_in": first["suppressed_in"],
            "completed_by": ", ".join(first["completed_by"])}, details=details)
    if found:
        first = found[0]
        return CheckResult("differencing", FAIL, "differencing.close", {
            "n": len(found), "threshold": threshold, "cell": first["cell"],
            "compared_with": first["compared_with"]}, details=details)
    return CheckResult("differencing", PASS, "differencing.ok",
                       {"compared": compared, "threshold": threshold}, details=details)
