"""Qualification of operating organizations (Measures Art. 20-21): an organization applies with
its unified social credit code and its declarations of the conditions of Art. 21; an
administrator reviews it (资格审查); an approved organization is publicly noticed (公示) for the
policy's days, at least five; when the notice ends without the administrator withdrawing it on
an objection, the organization is qualified. With ``[applications] qualified_only`` only
qualified organizations may apply for data.

States: submitted -> in_notice -> qualified, or -> rejected (from submitted, or from in_notice
on a substantiated objection). A rejected organization may apply again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from accounts import events
from accounts.errors import Conflict, InvalidInput, NotFound
from accounts.users import Organization
from anonymize.checksums import uscc_valid
from catalog.models import iso, utcnow
from catalog.names import text
from kernel.base import Base
from lineage import append
from policies import SYSTEM, Actor, Forbidden, Policy, Role
from policies.permissions import Action, permit

# The conditions of Art. 21 an applicant declares how it meets, each in its own words.
CONDITIONS = ("good_standing", "capability", "security_management", "data_management")
STATES = ("submitted", "in_notice", "qualified", "rejected")
OPEN = ("submitted", "in_notice")


class Qualification(Base):
    __tablename__ = "service_qualifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("service_organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    credit_code: Mapped[str] = mapped_column(String(18))
    legal_representative: Mapped[str] = mapped_column(String(200))
    security_officer: Mapped[str] = mapped_column(String(200))  # 数据安全负责人
    conditions: Mapped[dict[str, str]] = mapped_column(JSON)  # CONDITIONS -> declaration
    submitted_by: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    reviewed_by: Mapped[int | None] = mapped_column(Integer)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    comment: Mapped[str] = mapped_column(Text, default="")
    notice_from: Mapped[dt.date | None] = mapped_column(Date)
    notice_until: Mapped[dt.date | None] = mapped_column(Date)  # the last day of the notice
    qualified_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    org: Mapped[Organization] = relationship()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "org": self.org.name, "status": self.status,
                "credit_code": self.credit_code,
                "legal_representative": self.legal_representative,
                "security_officer": self.security_officer,
                "conditions": dict(self.conditions or {}),
                "submitted_at": iso(self.submitted_at), "reviewed_at": iso(self.reviewed_at),
                "comment": self.comment,
                "notice_from": self.notice_from.isoformat() if self.notice_from else None,
                "notice_until": self.notice_until.isoformat() if self.notice_until else None,
                "qualified_at": iso(self.qualified_at)}

    def public(self) -> dict[str, Any]:
        """What the public notice shows: who, under which code, in notice until when."""
        return {"org": self.org.name, "credit_code": self.credit_code, "status": self.status,
                "notice_from": self.notice_from.isoformat() if self.notice_from else None,
                "notice_until": self.notice_until.isoformat() if self.notice_until else None,
                "qualified_at": iso(self.qualified_at)}


def _org(session: Session, actor: Actor) -> Organization:
    if not actor.org:
        raise InvalidInput("a merchant must belong to an organization to apply for "
                           "qualification")
    org = session.scalar(select(Organization).where(Organization.name == actor.org))
    if org is None:
        raise NotFound("no organization {org!r}", org=actor.org)
    return org


def apply(session: Session, actor: Actor, policy: Policy, credit_code: str,
          legal_representative: str, security_officer: str,
          conditions: dict[str, str]) -> Qualification:
    """An organization's application for qualification, by one of its merchants."""
    permit(actor, Action.QUALIFICATION_APPLY)
    org = _org(session, actor)
    code = str(credit_code or "").strip().upper()
    if not uscc_valid(code):
        raise InvalidInput("{value!r} is not a valid unified social credit code (GB 32100)",
                           value=code[:20])
    unknown = sorted(set(conditions) - set(CONDITIONS)) if isinstance(conditions, dict) \
        else ["?"]
    if unknown:
        raise InvalidInput("the conditions are {conditions}, not {value!r}",
                           conditions=", ".join(CONDITIONS), value=str(unknown[0])[:40])
    most = policy.text.long_length
    declared = {  # one literal name each: the refusal names the field in the user's language
        "good_standing": text(conditions.get("good_standing", ""), "good standing", most,
                              multiline=True),
        "capability": text(conditions.get("capability", ""), "capability", most,
                           multiline=True),
        "security_management": text(conditions.get("security_management", ""),
                                    "security management", most, multiline=True),
        "data_management": text(conditions.get("data_management", ""), "data management", most,
                                multiline=True)}
    current = latest(session, org.id)
    if current is not None and current.status in (*OPEN, "qualified"):
        raise Conflict("organization {org!r} has qualification {id} under review, in notice "
                       "or granted already", org=org.name, id=current.id)
    made = Qualification(
        org=org, status="submitted", credit_code=code,
        legal_representative=text(legal_representative, "legal representative",
                                  policy.text.name_length),
        security_officer=text(security_officer, "data security officer",
                              policy.text.name_length),
        conditions=declared, submitted_by=actor.id)
    session.add(made)
    session.flush()
    append(session, actor, events.QUALIFICATION_SUBMITTED, f"org:{org.id}",
           {"qualification_id": made.id, "credit_code": code,
            "declaration_chars": sum(len(v) for v in declared.values())})
    return made


def latest(session: Session, org_id: int) -> Qualification | None:
    return session.scalar(select(Qualification).where(Qualification.org_id == org_id)
                          .order_by(Qualification.id.desc()).limit(1))


def get(session: Session, actor: Actor, qualification_id: int) -> Qualification:
    permit(actor, Action.QUALIFICATION_READ)
    found = session.get(Qualification, qualification_id)
    if found is None or (actor.role not in (Role.ADMIN, Role.REGULATOR)
                         and found.org.name != actor.org):
        raise NotFound("no qualification {id}", id=qualification_id)
    return found


def search(session: Session, actor: Actor, status: str | None = None) -> list[Qualification]:
    """Qualifications, newest first: a merchant's own organization's; all for administrators
    and the regulator."""
    permit(actor, Action.QUALIFICATION_READ)
    if status is not None and status not in STATES:
        raise InvalidInput("a qualification's status is one of {states}, not {value!r}",
                           states=", ".join(STATES), value=str(status)[:20])
    query = select(Qualification).order_by(Qualification.id.desc())
    if status:
        query = query.where(Qualification.status == status)
    if actor.role not in (Role.ADMIN, Role.REGULATOR):
        query = query.join(Organization).where(Organization.name == (actor.org or ""))
    return list(session.scalars(query.limit(500)))


def review(session: Session, actor: Actor, policy: Policy, qualification_id: int,
           approve: bool, comment: str) -> Qualification:
    """The administrator's qualification review: approved, it goes into public notice for
    the policy's days; rejected (also during the notice, on an objection), it ends."""
    permit(actor, Action.QUALIFICATION_REVIEW)
    found = get(session, actor, qualification_id)
    comment = text(comment, "comment", policy.text.long_length, required=not approve,
                   multiline=True)
    if approve and found.status != "submitted":
        raise Conflict("qualification {id} is not awaiting review: it cannot be approved",
                       id=found.id)
    if not approve and found.status not in OPEN:
        raise Conflict("qualification {id} is neither under review nor in notice: it cannot "
                       "be rejected", id=found.id)
    if actor.org and actor.org == found.org.name:
        raise Forbidden("an administrator may not review their own organization's "
                        "qualification")
    now = utcnow()
    found.reviewed_by, found.reviewed_at, found.comment = actor.id, now, comment
    if approve:
        days = policy.applications.qualification_notice_days
        found.status = "in_notice"
        found.notice_from = now.date()
        found.notice_until = now.date() + dt.timedelta(days=days - 1)
        append(session, actor, events.QUALIFICATION_NOTICED, f"org:{found.org_id}",
               {"qualification_id": found.id, "notice_until": found.notice_until.isoformat(),
                "notice_days": days})
    else:
        was = found.status
        found.status = "rejected"
        append(session, actor, events.QUALIFICATION_REJECTED, f"org:{found.org_id}",
               {"qualification_id": found.id, "during_notice": was == "in_notice",
                "comment_chars": len(comment)})
    return found


def sweep(session: Session, today: dt.date | None = None) -> list[int]:
    """Qualify the organizations whose public notice ended; returns their qualification ids."""
    today = today or utcnow().date()
    done = []
    for found in session.scalars(select(Qualification).where(
            Qualification.status == "in_notice", Qualification.notice_until < today)):
        found.status, found.qualified_at = "qualified", utcnow()
        append(session, SYSTEM, events.QUALIFICATION_GRANTED, f"org:{found.org_id}",
               {"qualification_id": found.id})
        done.append(found.id)
    return done


def require_qualified(session: Session, policy: Policy, org: str | None) -> None:
    """With ``[applications] qualified_only``, refuse an organization not (yet) qualified."""
    if not policy.applications.qualified_only:
        return
    found = session.scalar(select(Qualification).join(Organization)
                           .where(Organization.name == (org or ""),
                                  Qualification.status == "qualified").limit(1))
    if found is None:
        raise Forbidden("organization {org!r} is not qualified yet: apply for qualification "
                        "(tds qualification apply); it takes effect after its public notice",
                        org=str(org or "")[:100])


def noticed(session: Session) -> list[Qualification]:
    """The public notice: organizations in notice, and those qualified."""
    return list(session.scalars(select(Qualification)
                                .where(Qualification.status.in_(("in_notice", "qualified")))
                                .order_by(Qualification.notice_from.desc(),
                                          Qualification.id.desc()).limit(500)))
