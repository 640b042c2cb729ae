"""The query budget of a grant's real-data jobs and the alerts of probing patterns.

Every real-data job tells its merchant a little (a band of rows, a status, coarse times): a
merchant who runs many jobs that differ only in a literal, or that fail one after the other,
may be reading values out one bit at a time. A grant may submit ``real_jobs_per_grant_day``
real jobs a day; the job that spends the budget, ``probe_same_shape`` jobs of one shape (the
same SQL but for its literals) or ``probe_failures`` failures among the grant's latest
``probe_window`` real jobs raise an alert for the administrators, with a ledger event in the
same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Grant, utcnow
from lineage import append
from policies import SYSTEM, Actor, Policy
from policies.permissions import Action, permit
from sandbox import events
from sandbox.errors import NotFound, QueryRefused
from sandbox.models import Alert, Job

FAILED = ("failed", "timed_out")


def day_start(policy: Policy, now: dt.datetime | None = None) -> dt.datetime:
    """The start of the policy's calendar day (``web.timezone``), as naive UTC."""
    zone = ZoneInfo(str(policy.web.timezone))
    local = (now or utcnow()).replace(tzinfo=dt.UTC).astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(dt.UTC).replace(tzinfo=None)


def spent_today(session: Session, policy: Policy, grant_id: int) -> int:
    return session.scalar(select(func.count(Job.id)).where(
        Job.grant_id == grant_id, Job.target == "real",
        Job.created_at >= day_start(policy))) or 0


def before_submit(session: Session, policy: Policy, grant: Grant) -> int:
    """Refuse a real-data job once the grant's budget of the day is spent (nothing changes);
    else the real-data jobs the grant submitted today."""
    limit = policy.sandbox.real_jobs_per_grant_day
    spent = spent_today(session, policy, grant.id)
    if spent >= limit:
        raise QueryRefused("the grant's budget of {limit} real-data jobs a day is spent; it renews at "
                           "midnight ({timezone}). Develop on simulated data meanwhile",
                           limit=limit, timezone=policy.web["timezone"])
    return spent


def after_submit(session: Session, policy: Policy, grant: Grant, job: Job, spent: int) -> None:
    """Alerts a newly queued real-data job raises (``spent``: the grant's real jobs today
    before it): the budget spent, or a repeated shape."""
    limit = policy.sandbox.real_jobs_per_grant_day
    if spent + 1 == limit:
        raise_alert(session, grant, "budget_spent", {"jobs_today": limit, "job_id": job.id})
    latest = _latest(session, policy, grant.id)
    same = [j.id for j in latest if job.shape and j.shape == job.shape]
    if len(same) >= policy.sandbox.probe_same_shape:
        raise_alert(session, grant, "repeated_shape", {
            "window": len(latest), "same_shape": len(same), "job_ids": same})


def after_failure(session: Session, policy: Policy, job: Job) -> None:
    """The alert a failed real-data job raises when failures pile up in the grant's window."""
    latest = _latest(session, policy, job.grant_id)
    failed = [j.id for j in latest if j.status in FAILED]
    if len(failed) >= policy.sandbox.probe_failures:
        grant = session.get(Grant, job.grant_id)
        raise_alert(session, grant, "failures", {"window": len(latest), "failed": len(failed),
                                                 "job_ids": failed})


def _latest(session: Session, policy: Policy, grant_id: int) -> list[Job]:
    return list(session.scalars(select(Job).where(
        Job.grant_id == grant_id, Job.target == "real").order_by(Job.id.desc())
        .limit(policy.sandbox.probe_window)))


def raise_alert(session: Session, grant: Grant, kind: str, details: dict[str, Any]) -> Alert | None:
    """An alert of ``kind`` for ``grant`` with its ledger event, unless one is still open."""
    open_alert = session.scalar(select(Alert.id).where(
        Alert.grant_id == grant.id, Alert.kind == kind, Alert.acknowledged_at.is_(None)))
    if open_alert is not None:
        return None
    alert = Alert(grant_id=grant.id, org=grant.org, kind=kind, details=details)
    session.add(alert)
    session.flush()
    append(session, SYSTEM, events.SECURITY_ALERT, f"grant:{grant.id}",
           {"alert_id": alert.id, "kind": kind, **details})
    return alert


def list_alerts(session: Session, actor: Actor, open_only: bool = False) -> list[Alert]:
    permit(actor, Action.ALERT_MANAGE)
    query = select(Alert).order_by(Alert.id.desc())
    if open_only:
        query = query.where(Alert.acknowledged_at.is_(None))
    return list(session.scalars(query))


def acknowledge(session: Session, actor: Actor, alert_id: int) -> Alert:
    """An administrator has looked into an alert (a new one of its kind may then be raised)."""
    permit(actor, Action.ALERT_MANAGE)
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound("no alert {alert_id}", alert_id=alert_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_by, alert.acknowledged_at = actor.id, utcnow()
        append(session, actor, events.SECURITY_ALERT_ACKNOWLEDGED, f"grant:{alert.grant_id}",
               {"alert_id": alert.id})
    return alert
