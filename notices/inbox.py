"""A user's notices: the ledger's events on objects of their work, by role.

Merchants hear of decisions on their organization's applications, egress requests and grants;
reviewers of applications and egress requests (of other organizations) waiting for them;
administrators of alerts and escalations; providers of their datasets' previews and of the
applications that list their datasets (to check their parts). Nobody is told of their own
actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.models import Case
from catalog.models import Application, DatasetVersion, Grant, QualityIssue
from egress.models import EgressRequest, Release
from lineage import LedgerEvent
from notices.models import NoticeMark
from policies import Actor, Role

ACTIONS: dict[Role, tuple[str, ...]] = {
    Role.MERCHANT: ("application.approved", "application.deemed_approved",
                    "application.rejected", "application.returned", "egress.returned",
                    "egress.rejected", "release.created", "grant.expired", "grant.revoked",
                    "quality.answered", "quality.fixed", "case.responded", "case.resolved"),
    Role.REVIEWER: ("application.submitted", "application.amended", "application.checked",
                    "egress.submitted", "egress.updated", "egress.escalated"),
    Role.ADMIN: ("security.alert", "application.escalated", "egress.escalated",
                 "preview.failed", "case.opened"),
    Role.PROVIDER: ("preview.built", "preview.failed", "application.submitted",
                    "application.amended", "quality.reported"),
}
SCAN = 500  # newest matching events looked at per listing


def _org_of(session: Session, kind: str, key: int) -> str | None:
    if kind == "application":
        found = session.get(Application, key)
        return found.org if found else None
    if kind == "egress":
        found = session.get(EgressRequest, key)
        return found.org if found else None
    if kind == "release":
        found = session.get(Release, key)
        return found.request.org if found else None
    if kind == "grant":
        found = session.get(Grant, key)
        return found.org if found else None
    if kind == "quality":
        found = session.get(QualityIssue, key)
        return found.org if found else None
    if kind == "case":
        case = session.get(Case, key)
        return case.org if case else None
    return None


def _scope(session: Session, actor: Actor) -> Callable[[str], bool]:
    """Whether an event's subject (``kind:id``) belongs to ``actor``'s work."""
    def concerns(subject: str) -> bool:
        kind, _, raw = subject.partition(":")
        if not raw.isdigit():
            return actor.role == Role.ADMIN
        key = int(raw)
        if actor.role == Role.MERCHANT:
            return actor.org is not None and _org_of(session, kind, key) == actor.org
        if actor.role == Role.REVIEWER:
            # Egress requests of the reviewer's own organization go to other reviewers.
            return kind != "egress" or actor.org is None or \
                _org_of(session, kind, key) not in (None, actor.org)
        if actor.role == Role.PROVIDER:
            if kind == "application":
                found = session.get(Application, key)
                return found is not None and any(
                    i.dataset_version.dataset.provider_id == actor.id for i in found.items)
            if kind == "quality":
                issue = session.get(QualityIssue, key)
                return issue is not None and issue.dataset.provider_id == actor.id
            version = session.get(DatasetVersion, key) if kind == "dataset_version" else None
            return version is not None and version.dataset.provider_id == actor.id
        return True
    return concerns


def page(subject: str, role: Role) -> str:
    """The console page of a notice's object (a grant's notice: the merchant's workspace, or
    for administrators the alerts its budget raised)."""
    kind, _, key = subject.partition(":")
    if kind == "grant":
        return "/admin/alerts" if role == Role.ADMIN else f"/workspace/{key}"
    return {"application": f"/applications/{key}", "egress": f"/egress/{key}",
            "quality": f"/quality/{key}", "case": f"/cases/{key}",
            "release": f"/releases/{key}", "dataset_version": "/provider"}.get(kind, "/")


def mark(session: Session, actor: Actor) -> NoticeMark:
    found = session.get(NoticeMark, actor.id)
    if found is None:
        found = NoticeMark(user_id=actor.id, read_seq=0, mailed_seq=0)
        session.add(found)
        session.flush()
    return found


def notices(session: Session, actor: Actor, after: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """The actor's newest notices (after sequence ``after``), newest first, each marked
    ``unread`` unless the actor read up to it."""
    actions = ACTIONS.get(actor.role, ())
    if not actions or actor.id is None:
        return []
    read = session.get(NoticeMark, actor.id)
    read_seq = read.read_seq if read else 0
    concerns = _scope(session, actor)
    query = (select(LedgerEvent).where(LedgerEvent.action.in_(actions), LedgerEvent.seq > after)
             .order_by(LedgerEvent.seq.desc()).limit(SCAN))
    found = []
    for event in session.scalars(query):
        if event.actor_id == actor.id or not concerns(event.subject):
            continue
        found.append({"seq": event.seq, "time": event.time, "action": event.action,
                      "subject": event.subject, "unread": event.seq > read_seq})
        if len(found) >= limit:
            break
    return found


def unread(session: Session, actor: Actor) -> int:
    read = session.get(NoticeMark, actor.id) if actor.id is not None else None
    return sum(1 for n in notices(session, actor, read.read_seq if read else 0, 100))


def newest(session: Session) -> int:
    """The ledger's last sequence number (0 when empty)."""
    return session.scalar(select(LedgerEvent.seq).order_by(LedgerEvent.seq.desc()).limit(1)) or 0


def read_all(session: Session, actor: Actor) -> int:
    """Mark every notice so far read; returns the sequence read up to."""
    row = mark(session, actor)
    row.read_seq = max(row.read_seq, newest(session))
    return row.read_seq
