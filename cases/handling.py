"""Opening, responding to and resolving cases. An appeal names a rejected application of the
opener's organization; upheld, that application is reviewed again from a new deadline."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cases import events
from cases.errors import CaseNotFound, InvalidCase
from cases.models import Case
from cases.states import CASES, OPEN, SEVERITIES, CaseKind, CaseStatus
from catalog import applications, names
from catalog.models import Application, utcnow
from catalog.workdays import add_working_days
from lineage import append
from policies import Actor, Policy, Role
from policies.permissions import Action, permit

OUTCOMES = {"uphold": CaseStatus.UPHELD, "dismiss": CaseStatus.DISMISSED,
            "resolve": CaseStatus.RESOLVED}


def open_case(session: Session, actor: Actor, policy: Policy, kind: str, title: str,
              description: str, subject: str = "", severity: str = "") -> Case:
    """Open an appeal (merchants, against a rejected application of their organization), a
    complaint, or a security incident report (with its severity)."""
    permit(actor, Action.CASE_OPEN)
    if kind not in tuple(CaseKind):
        raise InvalidCase("a case is an appeal, a complaint or an incident, not {value!r}",
                          value=str(kind)[:40])
    title = names.text(title, "title", policy.text.name_length)
    description = names.text(description, "description", policy.text.long_length,
                             multiline=True)
    subject = (subject or "").strip()
    if kind == CaseKind.APPEAL:
        _appealable(session, actor, subject)
    elif subject:
        raise InvalidCase("only an appeal names a subject")
    if kind == CaseKind.INCIDENT:
        if severity not in SEVERITIES:
            raise InvalidCase("an incident's severity is one of {severities}",
                              severities=", ".join(SEVERITIES))
    elif severity:
        raise InvalidCase("only an incident has a severity")
    rules = policy.cases
    respond, resolve = (
        (rules.incident_response_working_days, rules.incident_resolve_working_days)
        if kind == CaseKind.INCIDENT else
        (rules.response_working_days, rules.resolve_working_days))
    today = utcnow().date()
    case = Case(kind=kind, subject=subject, severity=severity, opened_by=actor.id,
                org=actor.org, title=title, description=description, status=CaseStatus.OPEN,
                respond_due=add_working_days(today, respond, policy)[0],
                resolve_due=add_working_days(today, resolve, policy)[0], response="",
                resolution="")
    session.add(case)
    session.flush()
    append(session, actor, events.CASE_OPENED, f"case:{case.id}",
           {"kind": kind, "subject": subject or None, "severity": severity or None,
            "org": actor.org, "description_chars": len(description),
            "respond_due": case.respond_due.isoformat(),
            "resolve_due": case.resolve_due.isoformat()})
    return case


def _appealable(session: Session, actor: Actor, subject: str) -> Application:
    if actor.role != Role.MERCHANT:
        raise InvalidCase("appeals are a merchant's, against its organization's rejections")
    kind, _, key = subject.partition(":")
    if kind != "application" or not key.isdigit():
        raise InvalidCase("an appeal names the rejected application it is against "
                          "(application:ID)")
    app = session.get(Application, int(key))
    if app is None or app.org != actor.org:
        raise CaseNotFound("no application {id}", id=key[:12])
    if app.status != "rejected":
        raise InvalidCase("application {id} is {status}: only a rejection can be appealed",
                          id=app.id, status=app.status)
    clash = session.scalar(select(Case.id).where(Case.subject == subject,
                                                 Case.status.in_(OPEN)))
    if clash is not None:
        raise InvalidCase("case {id} already appeals application {app}", id=clash, app=app.id)
    return app


def get(session: Session, actor: Actor, case_id: int) -> Case:
    """The case, if ``actor`` may see it: their own (merchants: their organization's);
    administrators and the regulator any."""
    permit(actor, Action.CASE_READ)
    case = session.get(Case, case_id)
    if case is None or not _sees(actor, case):
        raise CaseNotFound("no case {case_id}", case_id=case_id)
    return case


def _sees(actor: Actor, case: Case) -> bool:
    if actor.role in (Role.ADMIN, Role.REGULATOR):
        return True
    if actor.role == Role.MERCHANT and actor.org:
        return case.org == actor.org
    return case.opened_by == actor.id


def search(session: Session, actor: Actor, status: str | None = None) -> list[Case]:
    permit(actor, Action.CASE_READ)
    query = select(Case)
    if actor.role == Role.MERCHANT and actor.org:
        query = query.where(Case.org == actor.org)
    elif actor.role not in (Role.ADMIN, Role.REGULATOR):
        query = query.where(Case.opened_by == actor.id)
    if status:
        query = query.where(Case.status == status)
    found = list(session.scalars(query.order_by(Case.id.desc())))
    return sorted(found, key=lambda c: (c.status not in OPEN, c.resolve_due, -c.id))


def respond(session: Session, actor: Actor, policy: Policy, case_id: int, response: str) -> Case:
    """The platform's first response: the case is being handled."""
    permit(actor, Action.CASE_HANDLE)
    case = get(session, actor, case_id)
    response = names.text(response, "response", policy.text.long_length, multiline=True)
    case.status = CASES.move(case.id, case.status, CaseStatus.IN_PROGRESS)
    case.response, case.responded_at, case.handled_by = response, utcnow(), actor.id
    append(session, actor, events.CASE_RESPONDED, f"case:{case.id}",
           {"response_chars": len(response),
            "late": case.responded_at.date() > case.respond_due})
    return case


def resolve(session: Session, actor: Actor, policy: Policy, case_id: int, outcome: str,
            resolution: str) -> Case:
    """Close a case: an appeal or complaint upheld or dismissed, an incident resolved. An
    upheld appeal sends its application back to review from a new deadline."""
    permit(actor, Action.CASE_HANDLE)
    case = get(session, actor, case_id)
    allowed = ("resolve",) if case.kind == CaseKind.INCIDENT else ("uphold", "dismiss")
    if outcome not in allowed:
        raise InvalidCase("a {kind} is closed with {outcomes}, not {value!r}", kind=case.kind,
                          outcomes=" or ".join(allowed), value=str(outcome)[:40])
    resolution = names.text(resolution, "resolution", policy.text.long_length, multiline=True)
    case.status = CASES.move(case.id, case.status, OUTCOMES[outcome])
    now = utcnow()
    case.resolution, case.resolved_at, case.handled_by = resolution, now, actor.id
    case.responded_at = case.responded_at or now
    append(session, actor, events.CASE_RESOLVED, f"case:{case.id}",
           {"status": case.status, "resolution_chars": len(resolution),
            "late": now.date() > case.resolve_due})
    if case.kind == CaseKind.APPEAL and case.status == CaseStatus.UPHELD:
        applications.reopen(session, actor, policy, int(case.subject.split(":")[1]),
                            f"case:{case.id}")
    return case


def overdue(case: Case, today: dt.date | None = None) -> bool:
    today = today or utcnow().date()
    return case.status in OPEN and (
        today > case.resolve_due or (case.status == CaseStatus.OPEN and today > case.respond_due))


def waiting(session: Session) -> list[tuple[dt.date, dt.date, str]]:
    """Open cases' deadlines (respond, resolve) and statuses: the administrators' to-do."""
    return [tuple(r) for r in session.execute(select(Case.respond_due, Case.resolve_due,
                                                     Case.status).where(
        or_(Case.status == CaseStatus.OPEN, Case.status == CaseStatus.IN_PROGRESS)))]
