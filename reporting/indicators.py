"""Monitoring indicators per month (authorization procedure, resource supply, operation
benefits, data security), built from the ledger alone, for the administrators' dashboard."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lineage.ledger import LedgerEvent

# Indicator group -> (series name, the ledger actions counted in it).
SERIES: dict[str, dict[str, tuple[str, ...]]] = {
    "authorization_procedure": {
        "applications_submitted": ("application.submitted",),
        "applications_decided": ("application.approved", "application.rejected",
                                 "application.deemed_approved"),
        "egress_requests": ("egress.requested",),
    },
    "resource_supply": {
        "datasets_registered": ("dataset.registered",),
        "grants_created": ("grant.created",),
    },
    "operation_benefits": {
        "jobs_succeeded": ("job.succeeded",),
        "products_released": ("release.created",),
        "downloads": ("release.downloaded",),
    },
    "data_security": {
        "failed_sign_ins": ("auth.failed",),
        "egress_rejected": ("egress.rejected",),
        "jobs_failed": ("job.failed", "job.timed_out"),
        "grants_revoked": ("grant.revoked",),
    },
}


def months_back(count: int, today: dt.date) -> list[str]:
    """The last ``count`` months as YYYY-MM, oldest first, ending with ``today``'s."""
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def monthly(session: Session, months: int = 12, today: dt.date | None = None) -> dict[str, Any]:
    """Counts per month of each series, and the share of applications decided within their
    deadline per month of decision."""
    labels = months_back(max(1, min(months, 120)), today or dt.datetime.now(dt.UTC).date())
    start = labels[0] + "-01"
    actions = {a: (group, name) for group, series in SERIES.items()
               for name, acts in series.items() for a in acts}
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    deadlines: dict[str, str] = {}
    decided: dict[str, list[bool]] = defaultdict(list)
    rows = session.execute(
        select(LedgerEvent.time, LedgerEvent.action, LedgerEvent.subject, LedgerEvent.payload)
        .where(or_(LedgerEvent.time >= start, LedgerEvent.action == "application.submitted"))
        .order_by(LedgerEvent.seq).execution_options(yield_per=10_000))
    for time, action, subject, payload in rows:
        if action == "application.submitted":
            deadlines[subject] = (json.loads(payload) or {}).get("deadline") or ""
        if time < start:
            continue
        month = time[:7]
        if action in actions:
            counts[actions[action]][month] += 1
        if action in ("application.approved", "application.rejected") and subject in deadlines:
            decided[month].append(time[:10] <= deadlines[subject])
        elif action == "application.deemed_approved":
            decided[month].append(False)
    out: dict[str, Any] = {"months": labels, "groups": {}}
    for group, series in SERIES.items():
        out["groups"][group] = {name: [counts[(group, name)][m] for m in labels]
                                for name in series}
    out["groups"]["authorization_procedure"]["decided_within_deadline_share"] = [
        round(sum(decided[m]) / len(decided[m]), 4) if decided[m] else None for m in labels]
    return out
