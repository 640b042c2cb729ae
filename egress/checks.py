"""Automatic checks of an egress request; each a small named check with a verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from anonymize.operators import PSEUDONYM_PATTERN
from catalog.models import Grant
from policies import Policy
from sandbox.models import Job

PASS, REVIEW, FAIL = "pass", "review", "fail"


@dataclass
class CheckResult:
    name: str
    verdict: str
    message: str
    columns: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "verdict": self.verdict, "message": self.message,
                "columns": self.columns, "details": self.details}


def datasets_read(session: Session, job: Job) -> dict[str, dict[str, Any]]:
    """Datasets a job read, directly or through earlier outputs it selected from."""
    found: dict[str, dict[str, Any]] = {}
    for name, source in (job.sources or {}).items():
        if source.get("kind") == "dataset":
            found[name] = source
        elif source.get("kind") == "output":
            earlier = session.get(Job, source["job_id"])
            if earlier is not None and earlier.id != job.id:
                found.update(datasets_read(session, earlier))
    return found


def scope(grant: Grant, job: Job, product: str, purpose: str) -> CheckResult:
    granted = {item.dataset_version.dataset.name: set(item.columns) for item in grant.items}
    outside = []
    for name, source in (job.sources or {}).items():
        if source.get("kind") == "dataset" and (
                name not in granted or not set(source.get("columns", [])) <= granted[name]):
            outside.append(name)
    if outside:
        return CheckResult("scope", FAIL, "the job read data outside the grant", outside)
    if not grant.usable():
        return CheckResult("scope", FAIL, f"the grant is {grant.status} or expired")
    return CheckResult(
        "scope", PASS,
        f"every input is within grant {grant.id} (scenario {grant.application.scenario!r}); "
        "the reviewer confirms the product fits the approved purpose",
        details={"scenario": grant.application.scenario,
                 "approved_purpose": grant.application.purpose[:500], "product": product,
                 "stated_purpose": purpose[:500]},
    )


def sources(declared: list[str], read: dict[str, dict[str, Any]]) -> CheckResult:
    missing, extra = sorted(set(read) - set(declared)), sorted(set(declared) - set(read))
    details = {"read": {n: {"registration_no": s["registration_no"], "version": s["version"]}
                        for n, s in sorted(read.items())}}
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"undeclared: {', '.join(missing)}")
        if extra:
            parts.append(f"declared but not read: {', '.join(extra)}")
        return CheckResult("sources", FAIL, "declared sources differ from the data read ("
                           + "; ".join(parts) + ")", details=details)
    return CheckResult("sources", PASS, "declared sources equal the datasets read",
                       details=details)


def personal_information(output: Path, policy: Policy) -> CheckResult:
    """A PII scan of every value, except values that are our keyed pseudonyms (digit runs
    inside a random hex pseudonym would otherwise look like phone numbers)."""
    table = pq.read_table(output)
    pseudonyms: dict[str, int] = {}
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            mask = pc.fill_null(pc.match_substring_regex(column, PSEUDONYM_PATTERN), False)
            if count := pc.sum(mask).as_py():
                pseudonyms[name] = count
                column = pc.if_else(mask, pa.scalar(None, column.type), column)
        columns[name] = column
    from anonymize.scan import scan_table  # loads Presidio only when a request is checked

    scans = scan_table(pa.table(columns), sample_rows=None, min_share=policy.entity_min_share)
    flagged = {s.name: s.hits for s in scans if s.hits
               and max(s.hits.values()) / max(s.scanned, 1) > policy.pii_fail_share}
    details: dict[str, Any] = {"pseudonymized_values": pseudonyms} if pseudonyms else {}
    if flagged:
        return CheckResult("personal_information", FAIL,
                           "the output holds personal or identifying information",
                           sorted(flagged), {"hits": flagged, **details})
    return CheckResult("personal_information", PASS,
                       f"no PII found in {table.num_columns} columns, {table.num_rows} rows"
                       + (f" ({sum(pseudonyms.values())} keyed pseudonyms)" if pseudonyms else ""),
                       details=details)


def cross_border(abroad: bool, application_abroad: bool, policy: Policy) -> CheckResult:
    if abroad or application_abroad:
        return CheckResult("cross_border", REVIEW,
                           "the product goes abroad: it needs "
                           f"{policy.cross_border_extra_approvals} extra approval(s) and a "
                           "cross-border assessment by the reviewers")
    return CheckResult("cross_border", PASS, "the product stays in the country")


def run_all(session: Session, policy: Policy, home: Path, grant: Grant, job: Job,
            product: str, purpose: str, declared: list[str], abroad: bool) -> list[CheckResult]:
    return [
        scope(grant, job, product, purpose),
        sources(declared, datasets_read(session, job)),
        personal_information(home / job.output_path, policy),
        cross_border(abroad, grant.application.abroad, policy),
    ]
