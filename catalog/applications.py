"""Usage applications (one scenario, one list, one approval), decisions, sweeps, grants."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog import encryption, events, names, reviews
from catalog.datasets import get as get_dataset
from catalog.errors import Conflict, GrantUnusable, InvalidInput, NotFound
from catalog.models import (
    Application,
    ApplicationCheck,
    ApplicationItem,
    Dataset,
    DatasetVersion,
    Grant,
    iso,
    utcnow,
)
from catalog.states import APPLICATIONS, GRANTS, ApplicationStatus, GrantStatus
from catalog.workdays import add_working_days
from kernel.base import after_commit
from lineage import append
from policies import LEVELS, SYSTEM, Actor, Forbidden, Policy, Role
from policies.permissions import Action, permit
from storage import Storage

OPEN_STATES = tuple(sorted(s.value for s in APPLICATIONS.open))


@dataclass
class Request:
    scenario: str
    description: str
    purpose: str
    products: str
    months: int
    abroad: bool = False
    items: list[dict[str, Any]] = field(default_factory=list)  # [{"dataset", "columns"}]


def submit(session: Session, actor: Actor, policy: Policy, req: Request) -> Application:
    permit(actor, Action.APPLICATION_SUBMIT)
    if not actor.org:
        raise InvalidInput("a merchant must belong to an organization to apply")
    app = Application(org=actor.org, merchant_id=actor.id)
    _fill(session, policy, app, req)
    session.add(app)
    reviews.open_checks(session, policy, app)
    session.flush()
    append(session, actor, events.APPLICATION_SUBMITTED, f"application:{app.id}", _filed(app))
    return app


def amend(session: Session, actor: Actor, policy: Policy, application_id: int,
          req: Request) -> Application:
    """Resubmit a returned application with the merchant's changes (补正): its review deadline
    counts again from the resubmission."""
    permit(actor, Action.APPLICATION_SUBMIT)
    app = get(session, actor, application_id)  # merchants find their organization's only
    app.status = APPLICATIONS.move(app.id, app.status, ApplicationStatus.SUBMITTED)
    for item in list(app.items):
        app.items.remove(item)
        session.delete(item)
    session.flush()
    _fill(session, policy, app, req)
    reviews.open_checks(session, policy, app)
    app.submitted_at, app.decided_at, app.decided_by = utcnow(), None, None
    app.amendments += 1
    session.flush()
    append(session, actor, events.APPLICATION_AMENDED, f"application:{app.id}", _filed(app))
    return app


def _filed(app: Application) -> dict[str, Any]:
    return {"org": app.org, "scenario": app.scenario, "months": app.months,
            "abroad": app.abroad, "deadline": app.deadline.isoformat(),
            "deadline_calendar_exact": app.calendar_exact,
            "items": [i.as_dict() for i in app.items]}


def _fill(session: Session, policy: Policy, app: Application, req: Request) -> None:
    """Check ``req`` and write it into ``app`` with a fresh review deadline."""
    scenario = names.text(req.scenario, "scenario name", policy.text.name_length)
    description = names.text(req.description, "scenario description", policy.text.long_length,
                             multiline=True)
    purpose = names.text(req.purpose, "purpose", policy.text.long_length, multiline=True)
    products = names.text(req.products, "intended products", policy.text.long_length,
                          multiline=True)
    if isinstance(req.months, bool) or not isinstance(req.months, int) or req.months <= 0:
        raise InvalidInput("the requested period must be a positive number of months")
    if req.months > policy.max_grant_months:
        raise InvalidInput(
            "the requested period of {months} months exceeds the policy maximum of {max_grant_months} "
            "months ({max_grant_years} years)",
            months=req.months, max_grant_months=policy.max_grant_months,
            max_grant_years=policy.max_grant_years
        )
    if not req.items:
        raise InvalidInput("the application must list at least one dataset and its columns")
    query = select(Application).where(
        Application.org == app.org, Application.scenario == scenario,
        Application.status.in_((*OPEN_STATES, "approved")))
    if app.id is not None:
        query = query.where(Application.id != app.id)
    clash = session.scalar(query)
    if clash is not None:
        raise Conflict(
            "your organization already has application {id} for the scenario {scenario!r}: one "
            "scenario, one list, one approval",
            id=clash.id, scenario=scenario
        )
    deadline, exact = add_working_days(utcnow().date(), policy.review_working_days, policy)
    app.scenario, app.description, app.purpose, app.products = (scenario, description, purpose,
                                                                 products)
    app.months, app.abroad, app.deadline, app.calendar_exact = (req.months, bool(req.abroad),
                                                                deadline, exact)
    seen: set[str] = set()
    for item in req.items:
        if not isinstance(item, dict) or "dataset" not in item:
            raise InvalidInput("each list item needs a dataset and its columns")
        dataset = get_dataset(session, str(item["dataset"]))
        if dataset.name in seen:
            raise InvalidInput("dataset {name!r} is listed twice; list it once", name=dataset.name)
        seen.add(dataset.name)
        version = dataset.latest
        columns = item.get("columns") or []
        if not isinstance(columns, list) or not columns:
            raise InvalidInput("list the columns of {name!r} the scenario needs", name=dataset.name)
        unknown = [c for c in columns if c not in version.column_names]
        if unknown:
            raise InvalidInput("dataset {name!r} has no column {unknown!r}",
                               name=dataset.name, unknown=unknown[0])
        if len(set(columns)) != len(columns):
            raise InvalidInput("a column of {name!r} is listed twice", name=dataset.name)
        raw = item.get("raw_columns") or []
        if not isinstance(raw, list) or any(c not in columns for c in raw):
            raise InvalidInput("raw columns of {name!r} must be among its listed columns",
                               name=dataset.name)
        identifiers = version.entity_columns()
        plain = [c for c in raw if c not in identifiers]
        if plain:
            raise InvalidInput("column {plain!r} of {name!r} holds no identifier: only identifier "
                               "columns are pseudonymized, so only they can be asked for raw",
                               plain=plain[0], name=dataset.name)
        app.items.append(ApplicationItem(dataset_version=version, columns=list(columns),
                                         raw_columns=sorted(set(raw))))


def reopen(session: Session, actor: Actor, policy: Policy, application_id: int,
           because: str) -> Application:
    """Send a rejected application back to review from a new deadline (an appeal upheld:
    ``because`` names the case); the providing departments check it afresh."""
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound("no application {application_id}", application_id=application_id)
    app.status = APPLICATIONS.move(app.id, app.status, ApplicationStatus.SUBMITTED)
    app.deadline, app.calendar_exact = add_working_days(utcnow().date(),
                                                        policy.review_working_days, policy)
    app.decided_at, app.decided_by, app.assessment = None, None, None
    reviews.open_checks(session, policy, app)
    append(session, actor, events.APPLICATION_REOPENED, f"application:{app.id}",
           {"because": because, "deadline": app.deadline.isoformat()})
    return app


def withdraw(session: Session, actor: Actor, application_id: int) -> Application:
    """The merchant takes back an application not yet decided."""
    permit(actor, Action.APPLICATION_SUBMIT)
    app = get(session, actor, application_id)  # merchants find their organization's only
    app.status = APPLICATIONS.move(app.id, app.status, ApplicationStatus.WITHDRAWN)
    app.decided_at = utcnow()
    append(session, actor, events.APPLICATION_WITHDRAWN, f"application:{app.id}",
           {"by": "merchant"})
    return app


def get(session: Session, actor: Actor, application_id: int) -> Application:
    """The application, if ``actor`` may see it: merchants their organization's, providers those
    that list one of their datasets (to check their part), reviewers and admins any."""
    app = session.get(Application, application_id)
    if app is None or (actor.role == Role.MERCHANT and app.org != actor.org) or (
            actor.role == Role.PROVIDER and not _lists_of(app, actor)):
        raise NotFound("no application {application_id}", application_id=application_id)
    return app


def _lists_of(app: Application, provider: Actor) -> bool:
    return any(i.dataset_version.dataset.provider_id == provider.id for i in app.items)


def list_applications(session: Session, actor: Actor, status: str | None = None) -> list[Application]:
    permit(actor, Action.APPLICATION_READ)
    query = select(Application).order_by(Application.deadline, Application.id)
    if actor.role == Role.MERCHANT:
        query = query.where(Application.org == actor.org)
    if actor.role == Role.PROVIDER:
        theirs = (select(ApplicationItem.application_id)
                  .join(DatasetVersion, DatasetVersion.id == ApplicationItem.dataset_version_id)
                  .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
                  .where(Dataset.provider_id == actor.id))
        query = query.where(Application.id.in_(theirs))
    if status:
        query = query.where(Application.status == status)
    # Each listed application shows its checks and materials (and why it cannot be approved
    # yet): loaded with the list, not one query per application.
    query = query.options(selectinload(Application.checks).joinedload(ApplicationCheck.dataset),
                          selectinload(Application.attachments))
    return list(session.scalars(query))


DECISIONS = {"approve": ApplicationStatus.APPROVED, "reject": ApplicationStatus.REJECTED,
             "return": ApplicationStatus.RETURNED}


def decide(session: Session, actor: Actor, policy: Policy, application_id: int,
           decision: str | bool, comment: str, assessment: Any = None) -> Application:
    """Approve (creating a grant), reject, or return for amendment (退回补正): the merchant
    then has the policy's ``amend_working_days`` to resubmit it. ``True``/``False`` mean
    approve/reject. An approval needs every providing department's agreement and the required
    materials (the first level of the review, :mod:`catalog.reviews`) and the reviewer's
    ``assessment``; a rejection or a return may carry one."""
    permit(actor, Action.APPLICATION_DECIDE)
    if isinstance(decision, bool):
        decision = "approve" if decision else "reject"
    if decision not in DECISIONS:
        raise InvalidInput("a decision is one of {decisions}", decisions=', '.join(DECISIONS))
    app = get(session, actor, application_id)
    to = APPLICATIONS.move(app.id, app.status, DECISIONS[decision])
    if actor.org and actor.org == app.org:
        raise Forbidden("a reviewer may not decide an application of their own organization")
    comment = names.text(comment, "comment", policy.text.long_length,
                         required=decision != "approve", multiline=True)
    rating = reviews.assessment(assessment, required=decision == "approve")
    if to == ApplicationStatus.APPROVED:
        reviews.ready(policy, app)
        if "fail" in rating.values():
            raise InvalidInput("an assessment that rates a point fail cannot approve: reject "
                               "or return the application")
        if "concern" in rating.values() and not comment:
            raise InvalidInput("say in the comment why the application is approved despite "
                               "the concern")
    app.status = to
    app.decided_at, app.decided_by, app.comment = utcnow(), actor.id, comment
    app.assessment = rating
    if to == ApplicationStatus.RETURNED:
        app.deadline, app.calendar_exact = add_working_days(app.decided_at.date(),
                                                            policy.amend_working_days, policy)
        append(session, actor, events.APPLICATION_RETURNED, f"application:{app.id}",
               {"comment_chars": len(comment), "amend_by": app.deadline.isoformat(),
                **({"assessment": rating} if rating else {})})
        return app
    append(session, actor, events.DECIDED[to], f"application:{app.id}",
           {"comment_chars": len(comment), **({"assessment": rating} if rating else {})})
    if to == ApplicationStatus.APPROVED:
        _grant(session, actor, app, policy)
    return app


def _grant(session: Session, actor: Actor, app: Application, policy: Policy) -> Grant:
    now = utcnow()
    expires = _add_months(now, app.months)
    agreement = policy.applications.agreement.format(
        org=app.org, scenario=app.scenario, products=app.products,
        datasets="；".join(f"{i.dataset_version.dataset.title}（{i.dataset_version.dataset.name}"
                          f" v{i.dataset_version.version}：{'、'.join(i.columns)}）"
                          for i in app.items),
        start=now.date().isoformat(), end=expires.date().isoformat())
    grant = Grant(application=app, org=app.org, created_at=now, expires_at=expires,
                  agreement=agreement,
                  agreement_sha256=hashlib.sha256(agreement.encode("utf-8")).hexdigest())
    session.add(grant)
    session.flush()
    encryption.start_grant(session, policy, grant)
    append(session, actor, events.GRANT_CREATED, f"grant:{grant.id}", {
        "application_id": app.id, "org": app.org,
        "expires_at": iso(grant.expires_at),
        "items": [i.as_dict() for i in app.items],
        **({"agreement_sha256": grant.agreement_sha256} if grant.agreement_sha256 else {}),
    })
    return grant


def accept_agreement(session: Session, actor: Actor, grant_id: int) -> Grant:
    """The merchant accepts its grant's operation agreement (格式协议): from then on its jobs
    may use the grant. The ledger keeps the agreement's SHA-256, so the text accepted can be
    proven later."""
    permit(actor, Action.GRANT_USE)
    grant = get_grant(session, actor, grant_id)
    if not grant.awaits_agreement:
        raise Conflict("grant {grant_id} has no agreement waiting for acceptance",
                       grant_id=grant_id)
    if grant.status != "active":
        raise GrantUnusable("grant {grant_id} is {status}", grant_id=grant_id,
                            status=grant.status)
    grant.agreement_accepted_at, grant.agreement_accepted_by = utcnow(), actor.id
    append(session, actor, events.AGREEMENT_ACCEPTED, f"grant:{grant.id}",
           {"sha256": grant.agreement_sha256})
    return grant


def _add_months(start: dt.datetime, months: int) -> dt.datetime:
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return start.replace(year=year, month=month,
                         day=min(start.day, calendar.monthrange(year, month)[1]))


def silence_may_approve(policy: Policy, app: Application) -> bool:
    """Whether an overdue ``app`` may be deemed approved: never one that asks for raw
    identifiers or for data above the policy's ``deemed_approval_max_level`` (those escalate)."""
    ceiling = LEVELS.index(policy.deemed_approval_max_level)
    return not any(item.raw_columns or LEVELS.index(item.dataset_version.dataset.level) > ceiling
                   for item in app.items)


def sweep_overdue(session: Session, policy: Policy,
                  now: dt.datetime | None = None) -> dict[str, list[int]]:
    """Apply the policy's overdue action to applications past their deadline."""
    today = (now or utcnow()).date()
    done: dict[str, list[int]] = {"deemed_approved": [], "escalated": [], "withdrawn": []}
    overdue = list(session.scalars(select(Application).where(
        Application.status == ApplicationStatus.SUBMITTED, Application.deadline < today)))
    for app in overdue:
        if policy.overdue_action == "deemed_approved" and silence_may_approve(policy, app) \
                and reviews.silence_may_pass(policy, app):
            app.status = APPLICATIONS.move(app.id, app.status, ApplicationStatus.APPROVED)
            app.deemed, app.decided_at = True, utcnow()
            reviews.deem_pending(app)
            append(session, SYSTEM, events.APPLICATION_DEEMED_APPROVED, f"application:{app.id}",
                   {"deadline": app.deadline.isoformat()})
            _grant(session, SYSTEM, app, policy)
            done["deemed_approved"].append(app.id)
        else:
            app.status = APPLICATIONS.move(app.id, app.status, ApplicationStatus.ESCALATED)
            append(session, SYSTEM, events.APPLICATION_ESCALATED, f"application:{app.id}",
                   {"deadline": app.deadline.isoformat()})
            done["escalated"].append(app.id)
    lapsed = list(session.scalars(select(Application).where(
        Application.status == ApplicationStatus.RETURNED, Application.deadline < today)))
    for app in lapsed:
        app.status = APPLICATIONS.move(app.id, app.status, ApplicationStatus.WITHDRAWN)
        app.decided_at = utcnow()
        append(session, SYSTEM, events.APPLICATION_WITHDRAWN, f"application:{app.id}",
               {"by": "sweep"})
        done["withdrawn"].append(app.id)
    return done


def expire_grants(session: Session, data: Storage, now: dt.datetime | None = None) -> list[int]:
    """End the grants whose period is over; their workspaces are deleted after the commit."""
    expired = list(session.scalars(select(Grant).where(Grant.status == GrantStatus.ACTIVE,
                                                  Grant.expires_at <= (now or utcnow()))))
    for grant in expired:
        _end(session, SYSTEM, grant, GrantStatus.EXPIRED, "the grant period ended", data)
    return [grant.id for grant in expired]


def revoke(session: Session, actor: Actor, policy: Policy, grant_id: int, reason: str,
           data: Storage) -> Grant:
    permit(actor, Action.GRANT_REVOKE)
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound("no grant {grant_id}", grant_id=grant_id)
    reason = names.text(reason, "reason", policy.text.reason_length)
    _end(session, actor, grant, GrantStatus.REVOKED, reason, data)
    return grant


def workspace_path(grant_id: int) -> str:
    """The storage folder of a grant's workspace: its outputs and egress findings."""
    return f"workspaces/{grant_id}"


# Called in the transaction that ends a grant (revoked or expired), as
# ``hook(session, actor, grant, data)``: packages that keep state bound to a grant close it
# with the grant (the egress package withdraws its open requests and deletes their findings).
GRANT_END_HOOKS: list[Callable[[Session, Actor, Grant, Storage], None]] = []


def _end(session: Session, actor: Actor, grant: Grant, status: GrantStatus, reason: str,
         data: Storage) -> None:
    grant.status = GRANTS.move(grant.id, grant.status, status)
    grant.ended_at, grant.end_reason = utcnow(), reason
    append(session, actor, events.ENDED[status], f"grant:{grant.id}",
           {"workspace_deleted": True, "reason_chars": len(reason)})
    for hook in GRANT_END_HOOKS:
        hook(session, actor, grant, data)
    # Last: the hooks above may still read the grant's files (to hash what they delete).
    encryption.end_grant(session, grant, f"grant {status.value}")
    # Merchant-retained data goes once the end is committed; the ledger keeps the record.
    after_commit(session, lambda: data.remove(workspace_path(grant.id)))


def get_grant(session: Session, actor: Actor, grant_id: int) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None or (actor.role == Role.MERCHANT and grant.org != actor.org):
        raise NotFound("no grant {grant_id}", grant_id=grant_id)
    return grant


def usable_grant(session: Session, actor: Actor, grant_id: int) -> Grant:
    """The grant, if the actor's organization may run jobs on it now."""
    permit(actor, Action.GRANT_USE)
    grant = get_grant(session, actor, grant_id)
    if grant.status != "active":
        raise GrantUnusable("grant {grant_id} is {status}: no new jobs may use it",
                            grant_id=grant_id, status=grant.status)
    if not grant.usable():
        raise GrantUnusable("grant {grant_id} expired on {expires_at:%Y-%m-%d}",
                            grant_id=grant_id, expires_at=grant.expires_at)
    if grant.awaits_agreement:
        raise GrantUnusable("accept the operation agreement of grant {grant_id} first: its "
                            "jobs start once your organization has accepted it",
                            grant_id=grant_id)
    return grant


def list_grants(session: Session, actor: Actor) -> list[Grant]:
    permit(actor, Action.GRANT_READ)
    query = select(Grant).order_by(Grant.id)
    if actor.role == Role.MERCHANT:
        query = query.where(Grant.org == actor.org)
    return list(session.scalars(query))
