"""A user's to-dos, counted from the state of the platform's work by role: what waits for
them, and which of it is due soon (the policy's ``notifications.deadline_warning_days``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from cases.handling import waiting
from catalog.models import (
    Application,
    ApplicationCheck,
    Dataset,
    DatasetVersion,
    Grant,
    QualityIssue,
    utcnow,
)
from egress.models import EgressRequest, EgressReview
from egress.states import AWAITING_REVIEW
from policies import Actor, Policy, Role
from sandbox.models import Alert


@dataclass(frozen=True)
class Todo:
    """One kind of work: how many, how many are due soon, and the nearest due date."""

    kind: str
    count: int
    near: int = 0
    due: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _todo(kind: str, dues: list[dt.date | None], today: dt.date, warn: int) -> Todo | None:
    if not dues:
        return None
    dated = sorted(d for d in dues if d is not None)
    near = sum(1 for d in dated if (d - today).days <= warn)
    return Todo(kind, len(dues), near, dated[0].isoformat() if dated else None)


def todos(session: Session, actor: Actor, policy: Policy,
          today: dt.date | None = None) -> list[Todo]:
    """The actor's to-dos, by role; kinds with nothing to do are left out."""
    today = today or utcnow().date()
    warn = policy.notifications.deadline_warning_days
    found: list[Todo | None] = []
    if actor.role == Role.REVIEWER:
        apps = session.scalars(select(Application.deadline).where(
            Application.status.in_(("submitted", "escalated")))).all()
        found.append(_todo("applications_to_review", list(apps), today, warn))
        # One query (the header's badge asks every minute): requests in review, not of the
        # reviewer's own organization, without the reviewer's vote in their current round.
        voted = exists().where(EgressReview.request_id == EgressRequest.id,
                               EgressReview.round == EgressRequest.round,
                               EgressReview.reviewer_id == actor.id)
        query = select(EgressRequest.deadline).where(
            EgressRequest.status.in_([s.value for s in AWAITING_REVIEW]), ~voted)
        if actor.org is not None:
            query = query.where(or_(EgressRequest.org.is_(None), EgressRequest.org != actor.org))
        found.append(_todo("egress_to_review", list(session.scalars(query)), today, warn))
    elif actor.role == Role.MERCHANT:
        returned = session.scalars(select(Application.deadline).where(
            Application.org == actor.org, Application.status == "returned")).all()
        found.append(_todo("applications_to_amend", list(returned), today, warn))
        egress = session.scalars(select(EgressRequest.deadline).where(
            EgressRequest.org == actor.org, EgressRequest.status.in_(("returned", "draft")))).all()
        found.append(_todo("egress_to_answer", [None] * len(egress), today, warn))
        horizon = utcnow() + dt.timedelta(days=policy.notifications.grant_ending_days)
        ending = session.scalars(select(Grant.expires_at).where(
            Grant.org == actor.org, Grant.status == "active", Grant.expires_at < horizon)).all()
        found.append(_todo("grants_ending", [e.date() for e in ending], today, warn))
    elif actor.role == Role.ADMIN:
        alerts = session.scalars(select(Alert.id).where(Alert.acknowledged_at.is_(None))).all()
        found.append(_todo("open_alerts", [None] * len(alerts), today, warn))
        apps = session.scalars(select(Application.deadline).where(
            Application.status == "escalated")).all()
        requests = session.scalars(select(EgressRequest.deadline).where(
            EgressRequest.escalated.is_(True),
            EgressRequest.status.in_([s.value for s in AWAITING_REVIEW]))).all()
        found.append(_todo("escalated", [*apps, *requests], today, warn))
        late = session.execute(select(QualityIssue.answer_due, QualityIssue.fix_due).where(
            or_(and_(QualityIssue.status == "open", QualityIssue.answer_due < today),
                and_(QualityIssue.status.in_(("open", "acknowledged")),
                     QualityIssue.fix_due < today)))).all()
        found.append(_todo("quality_overdue", [min(a, f) for a, f in late], today, warn))
        found.append(_todo("cases_to_handle", [respond if status == "open" else resolve
                                               for respond, resolve, status in waiting(session)],
                           today, warn))
    elif actor.role == Role.PROVIDER:
        mine = select(Dataset.id).where(Dataset.provider_id == actor.id)
        pending = select(ApplicationCheck.application_id).where(
            ApplicationCheck.verdict == "pending", ApplicationCheck.dataset_id.in_(mine))
        to_check = session.scalars(select(Application.deadline).where(
            Application.id.in_(pending), Application.status.in_(("submitted", "escalated")))).all()
        found.append(_todo("applications_to_check", list(to_check), today, warn))
        issues = session.execute(select(QualityIssue.status, QualityIssue.answer_due,
                                        QualityIssue.fix_due).where(
            QualityIssue.dataset_id.in_(mine),
            QualityIssue.status.in_(("open", "acknowledged")))).all()
        found.append(_todo("quality_to_answer",
                           [a if st == "open" else f for st, a, f in issues], today, warn))
        versions = session.scalars(select(DatasetVersion).where(
            DatasetVersion.dataset_id.in_(mine))).all()
        latest = {}
        for v in versions:
            if v.dataset_id not in latest or v.version > latest[v.dataset_id].version:
                latest[v.dataset_id] = v
        found.append(_todo("classifications_to_confirm",
                           [None for v in latest.values() if v.classification != "confirmed"],
                           today, warn))
        found.append(_todo("previews_failed",
                           [None for v in latest.values() if v.preview_status == "failed"],
                           today, warn))
    return [t for t in found if t is not None]
