"""What each role reads of a job.

Usable but invisible: the merchant of a real-data job reads its status, schema, a band of its
row count, coarse times and, when it failed, the class of the failure with a reference. Exact
row counts, the output's hash and millisecond timings would each be an oracle of the values
(``range(N) WHERE i < (SELECT value ...)`` turns a row count into a value). The reviewers who
review the job's egress request read exact figures; only the platform's operators (admins) read
the message of a failure, which may quote the data.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from catalog.models import utcnow
from policies import Actor, Policy, Role
from sandbox.models import FINAL_STATES, Job


def row_band(rows: int, base: int) -> tuple[int, int]:
    """The band ``[base^n, base^(n+1) - 1]`` holding ``rows`` (``(0, 0)`` for none)."""
    if rows <= 0:
        return 0, 0
    low = 1
    while low * base <= rows:
        low *= base
    return low, low * base - 1


def band_text(band: tuple[int, int]) -> str:
    low, high = band
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


def _floor(value: str | None, seconds: int) -> str | None:
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value.removesuffix("Z"))
    epoch = moment.replace(tzinfo=dt.UTC).timestamp()
    floored = dt.datetime.fromtimestamp(epoch - epoch % seconds, dt.UTC).replace(tzinfo=None)
    return floored.isoformat(timespec="seconds") + "Z"


def reveal_at(policy: Policy, job: Job) -> dt.datetime | None:
    """When a finished real-data job's outcome shows to its merchant: its start plus the time
    to its recorded end rounded up to ``real_timing_seconds`` (never before that end).
    Polling the status would otherwise time the job to the poll's interval (a slow branch
    taken or not is a bit of a value)."""
    if job.status not in FINAL_STATES or job.started_at is None or job.finished_at is None:
        return None
    step = policy.sandbox.real_timing_seconds
    ran = max((job.finished_at - job.started_at).total_seconds(), 0.001)
    return job.started_at + dt.timedelta(seconds=math.ceil(ran / step) * step)


def seconds_until_shown(policy: Policy, job: Job, now: dt.datetime | None = None) -> float:
    """How long a real-data job's merchant still waits for its outcome (0 when shown)."""
    until = reveal_at(policy, job) if job.target == "real" else None
    return 0.0 if until is None else max(0.0, (until - (now or utcnow())).total_seconds())


def coarse(policy: Policy, shown: dict[str, Any]) -> dict[str, Any]:
    """``shown`` (a job's full view) with only what a real job's merchant may read."""
    base = policy.sandbox.real_row_band_base
    step = policy.sandbox.real_timing_seconds
    shown = dict(shown)
    if shown.get("output"):
        band = row_band(int(shown["output"]["rows"] or 0), base)
        shown["output"] = {"rows": None, "rows_band": list(band), "rows_text": band_text(band),
                           "schema": shown["output"]["schema"], "sha256": None}
    if shown.get("duration_ms") is not None:
        shown["duration_s"] = max(1, math.ceil(shown["duration_ms"] / 1000 / step)) * step
        shown["duration_text"] = f"≤ {shown['duration_s']} s"
    shown["duration_ms"] = None
    for key in ("started_at", "finished_at"):
        shown[key] = _floor(shown.get(key), step)
    shown["coarse"] = True
    return shown


def shown(policy: Policy, job: Job, actor: Actor,
          now: dt.datetime | None = None) -> dict[str, Any]:
    """``job`` as ``actor`` may read it (the caller has checked the actor may read it at all).
    A real-data job's merchant sees it running until :func:`reveal_at`."""
    data = job.as_dict()
    if data.get("output"):
        data["output"]["rows_text"] = f"{data['output']['rows']:,}"
    if data.get("duration_ms") is not None:
        data["duration_text"] = f"{data['duration_ms']:,} ms"
    data["coarse"] = False
    if actor.role == Role.ADMIN:
        data["error_detail"] = job.error_detail
    elif actor.role == Role.MERCHANT and job.target == "real":
        data = coarse(policy, data)
        until = reveal_at(policy, job)
        if until is not None and (now or utcnow()) < until:
            data.update(status="running", output=None, error=None, error_class=None,
                        finished_at=None, duration_s=None, duration_text=None)
    return data
