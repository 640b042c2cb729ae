"""Usage metering from the ledger (Measures Art. 29-31): per organization and grant, and per
dataset, over a period: real and simulated jobs, job seconds, rows produced, releases and
downloads. Only the ledger is read, so the figures are what its events prove."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import events as catalog_events
from egress import events as egress_events
from lineage.errors import LedgerError
from lineage.ledger import LedgerEvent
from sandbox import events as sandbox_events

FINISHED = (sandbox_events.JOB_SUCCEEDED, sandbox_events.JOB_FAILED,
            sandbox_events.JOB_TIMED_OUT, sandbox_events.JOB_CANCELLED)
GRANT_FIELDS = ("org", "grant", "jobs_real", "jobs_simulated", "job_seconds", "rows_produced",
                "releases", "downloads")
DATASET_FIELDS = ("dataset", "jobs_real", "jobs_simulated", "releases", "downloads")


class BadPeriod(LedgerError):
    kind = "invalid"


def usage(session: Session, since: str, until: str) -> dict[str, Any]:
    """Usage between ``since`` (inclusive) and ``until`` (exclusive), ISO dates. Events before
    the period still say whose a grant, job or release is."""
    if not (len(since) == len(until) == 10 and since < until):
        raise BadPeriod("a period runs from one ISO date to a later one, not {since}..{until}",
                        since=since[:20], until=until[:20])
    grant_org: dict[int, str] = {}
    job_grant: dict[int, int] = {}
    job_target: dict[int, str] = {}
    job_sources: dict[int, list[str]] = {}
    release_job: dict[str, int] = {}
    release_sources: dict[str, list[str]] = {}
    per_grant: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_dataset: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    rows = session.execute(select(LedgerEvent.time, LedgerEvent.action, LedgerEvent.subject,
                                  LedgerEvent.payload).where(LedgerEvent.time < until)
                           .order_by(LedgerEvent.seq).execution_options(yield_per=10_000))
    for time, action, subject, raw in rows:
        inside = time >= since
        key = subject.partition(":")[2]
        if action == catalog_events.GRANT_CREATED:
            grant_org[int(key)] = json.loads(raw)["org"]
        elif action == sandbox_events.JOB_QUEUED:
            p = json.loads(raw)
            job = int(key)
            job_grant[job], job_target[job] = p["grant_id"], p["target"]
            job_sources[job] = sorted(n for n, s in p["sources"].items()
                                      if s.get("kind") == "dataset")
            if inside:
                field = f"jobs_{p['target']}"
                per_grant[p["grant_id"]][field] += 1
                for name in job_sources[job]:
                    per_dataset[name][field] += 1
        elif action in FINISHED and inside:
            p = json.loads(raw)
            grant = job_grant.get(int(key))
            if grant is not None:
                per_grant[grant]["job_seconds"] += p.get("duration_ms", 0) / 1000
                per_grant[grant]["rows_produced"] += p.get("rows") or 0
        elif action == egress_events.RELEASE_CREATED:
            p = json.loads(raw)
            release_job[key], release_sources[key] = p["job_id"], p["sources"]
            if inside:
                _count(per_grant, per_dataset, job_grant.get(p["job_id"]), p["sources"],
                       "releases")
        elif action == egress_events.RELEASE_DOWNLOADED and inside:
            _count(per_grant, per_dataset, job_grant.get(release_job.get(key, -1)),
                   release_sources.get(key, []), "downloads")
    grants = [{"org": grant_org.get(g, ""), "grant": g,
               **{f: _number(c.get(f, 0)) for f in GRANT_FIELDS[2:]}}
              for g, c in per_grant.items()]
    grants.sort(key=lambda r: (r["org"], r["grant"]))
    orgs: dict[str, dict[str, Any]] = {}
    for row in grants:
        total = orgs.setdefault(row["org"], {"org": row["org"], **{f: 0 for f in
                                                                    GRANT_FIELDS[2:]}})
        for f in GRANT_FIELDS[2:]:
            total[f] = _number(total[f] + row[f])
    datasets = [{"dataset": name, **{f: _number(c.get(f, 0)) for f in DATASET_FIELDS[1:]}}
                for name, c in sorted(per_dataset.items())]
    return {"since": since, "until": until, "source": "the lineage ledger",
            "organizations": list(orgs.values()), "grants": grants, "datasets": datasets}


def _count(per_grant: dict, per_dataset: dict, grant: int | None, sources: list[str],
           field: str) -> None:
    if grant is not None:
        per_grant[grant][field] += 1
    for name in sources:
        per_dataset[name][field] += 1


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 3)


def as_csv(report: dict[str, Any], part: str = "grants") -> str:
    """One part of the usage (organizations, grants or datasets) as CSV."""
    rows = report[part]
    fields = {"grants": GRANT_FIELDS, "datasets": DATASET_FIELDS,
              "organizations": ("org", *GRANT_FIELDS[2:])}[part]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # Text a spreadsheet would run as a formula stays text.
        writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@" else v)
                         for k, v in row.items()})
    return out.getvalue()
