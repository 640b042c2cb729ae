"""Monitoring indicators per month (authorization procedure, resource supply, operation
benefits, data security), built from the ledger alone, for the administrators' dashboard."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from accounts.events import AUTH_FAILED
from catalog import events as catalog_events
from egress import events as egress_events
from lineage.ledger import LedgerEvent
from sandbox import events as sandbox_events

# Indicator group -> (series name, the ledger actions counted in it).
SERIES: dict[str, dict[str, tuple[str, ...]]] = {
    "authorization_procedure": {
        "applications_submitted": (catalog_events.APPLICATION_SUBMITTED,),
        "applications_decided": (catalog_events.APPLICATION_APPROVED, catalog_events.APPLICATION_REJECTED,
                                 catalog_events.APPLICATION_DEEMED_APPROVED),
        "egress_requests": (egress_events.EGRESS_REQUESTED,),
    },
    "resource_supply": {
        "datasets_registered": (catalog_events.DATASET_REGISTERED,),
        "grants_created": (catalog_events.GRANT_CREATED,),
    },
    "operation_benefits": {
        "jobs_succeeded": (sandbox_events.JOB_SUCCEEDED,),
        "products_released": (egress_events.RELEASE_CREATED,),
        "downloads": (egress_events.RELEASE_DOWNLOADED,),
    },
    "data_security": {
        "failed_sign_ins": (AUTH_FAILED,),
        "egress_rejected": (egress_events.EGRESS_REJECTED,),
        "jobs_failed": (sandbox_events.JOB_FAILED, sandbox_events.JOB_TIMED_OUT),
        "grants_revoked": (catalog_events.GRANT_REVOKED,),
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
        .where(or_(LedgerEvent.time >= start, LedgerEvent.action == catalog_events.APPLICATION_SUBMITTED))
        .order_by(LedgerEvent.seq).execution_options(yield_per=10_000))
    for time, action, subject, payload in rows:
        if action == catalog_events.APPLICATION_SUBMITTED:
            deadlines[subject] = (json.loads(payload) or {}).get("deadline") or ""
        if time < start:
            continue
        month = time[:7]
        if action in actions:
            counts[actions[action]][month] += 1
        if action in (catalog_events.APPLICATION_APPROVED,
                      catalog_events.APPLICATION_REJECTED) and subject in deadlines:
            decided[month].append(time[:10] <= deadlines[subject])
        elif action == catalog_events.APPLICATION_DEEMED_APPROVED:
            decided[month].append(False)
    out: dict[str, Any] = {"months": labels, "groups": {}}
    for group, series in SERIES.items():
        out["groups"][group] = {name: [counts[(group, name)][m] for m in labels]
                                for name in series}
    out["groups"]["authorization_procedure"]["decided_within_deadline_share"] = [
        round(sum(decided[m]) / len(decided[m]), 4) if decided[m] else None for m in labels]
    return out
