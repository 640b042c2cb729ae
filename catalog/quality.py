"""Data-quality feedback (Measures Art. 14): a merchant reports an issue on a dataset version it
sees in the catalog; the providing department acknowledges or rejects it within the policy's
answer period, and fixes an acknowledged one with a new version within the fix period. Every
step is a ledger event holding names, codes and counts; the texts stay in the store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import events, names
from catalog.datasets import get as get_dataset
from catalog.errors import InvalidInput, NotFound
from catalog.models import Dataset, QualityIssue, utcnow
from catalog.states import ISSUES, IssueStatus
from catalog.workdays import add_working_days
from lineage import append
from policies import Actor, Forbidden, Policy, Role
from policies.permissions import Action, permit

# What an issue is about.
KINDS = ("missing_values", "wrong_values", "inconsistent", "outdated", "schema", "other")
ANSWERS = {"acknowledge": IssueStatus.ACKNOWLEDGED, "reject": IssueStatus.REJECTED}
OPEN = (IssueStatus.OPEN, IssueStatus.ACKNOWLEDGED)


def report(session: Session, actor: Actor, policy: Policy, dataset_name: str, kind: str,
           columns: list[str], description: str, version: int | None = None) -> QualityIssue:
    """A merchant's report of an issue on ``version`` (default: the latest) of a dataset."""
    permit(actor, Action.QUALITY_REPORT)
    if not actor.org:
        raise InvalidInput("a merchant must belong to an organization to report an issue")
    dataset = get_dataset(session, str(dataset_name))
    if kind not in KINDS:
        raise InvalidInput("an issue's kind is one of {kinds}, not {value!r}",
                           kinds=", ".join(KINDS), value=str(kind)[:40])
    known = {v.version: v for v in dataset.versions}
    chosen = known.get(version if version is not None else dataset.latest.version)
    if chosen is None:
        raise InvalidInput("dataset {name!r} has no version {version}", name=dataset.name,
                           version=version)
    if not isinstance(columns, list) or any(c not in chosen.column_names for c in columns):
        unknown = next((c for c in columns if c not in chosen.column_names), columns) \
            if isinstance(columns, list) else columns
        raise InvalidInput("dataset {name!r} has no column {unknown!r}", name=dataset.name,
                           unknown=str(unknown)[:80])
    if len(set(columns)) != len(columns):
        raise InvalidInput("a column is listed twice")
    description = names.text(description, "description of the issue", policy.text.long_length,
                             multiline=True)
    today = utcnow().date()
    issue = QualityIssue(dataset=dataset, version=chosen.version, org=actor.org,
                         reporter_id=actor.id, kind=kind, columns=list(columns),
                         description=description, status=IssueStatus.OPEN, reply="",
                         answer_due=_due(today, policy.catalog.quality_answer_working_days,
                                         policy),
                         fix_due=_due(today, policy.catalog.quality_fix_working_days, policy))
    session.add(issue)
    session.flush()
    append(session, actor, events.QUALITY_REPORTED, f"quality:{issue.id}",
           {"dataset": dataset.name, "version": chosen.version, "kind": kind,
            "columns": list(columns), "description_chars": len(description),
            "answer_due": issue.answer_due.isoformat(), "fix_due": issue.fix_due.isoformat()})
    return issue


def _due(start: dt.date, days: int, policy: Policy) -> dt.date:
    return add_working_days(start, days, policy)[0]


def get(session: Session, actor: Actor, issue_id: int) -> QualityIssue:
    """The issue, if ``actor`` may see it: merchants their organization's, providers those on
    their datasets, reviewers and admins any."""
    permit(actor, Action.QUALITY_READ)
    issue = session.get(QualityIssue, issue_id)
    if issue is None or not _sees(actor, issue):
        raise NotFound("no quality issue {issue_id}", issue_id=issue_id)
    return issue


def _sees(actor: Actor, issue: QualityIssue) -> bool:
    if actor.role == Role.MERCHANT:
        return issue.org == actor.org
    if actor.role == Role.PROVIDER:
        return issue.dataset.provider_id == actor.id
    return True


def search(session: Session, actor: Actor, status: str | None = None,
           dataset: str | None = None) -> list[QualityIssue]:
    """The issues ``actor`` may see, open ones and the nearest deadlines first."""
    permit(actor, Action.QUALITY_READ)
    query = select(QualityIssue).join(Dataset, Dataset.id == QualityIssue.dataset_id)
    if actor.role == Role.MERCHANT:
        query = query.where(QualityIssue.org == actor.org)
    elif actor.role == Role.PROVIDER:
        query = query.where(Dataset.provider_id == actor.id)
    if status:
        query = query.where(QualityIssue.status == status)
    if dataset:
        query = query.where(Dataset.name == dataset)
    found = list(session.scalars(query.order_by(QualityIssue.id.desc())))
    return sorted(found, key=lambda i: (i.status not in OPEN, i.fix_due, -i.id))


def _answering(actor: Actor, issue: QualityIssue) -> None:
    permit(actor, Action.QUALITY_ANSWER)
    if actor.role != Role.ADMIN and issue.dataset.provider_id != actor.id:
        raise Forbidden("only the providing department of {name!r} answers its issues",
                        name=issue.dataset.name)


def answer(session: Session, actor: Actor, policy: Policy, issue_id: int, decision: str,
           reply: str) -> QualityIssue:
    """The providing department acknowledges the issue (and will fix it with a new version) or
    rejects it, saying why."""
    issue = get(session, actor, issue_id)
    _answering(actor, issue)
    if decision not in ANSWERS:
        raise InvalidInput("an answer acknowledges or rejects (acknowledge, reject), not "
                           "{value!r}", value=str(decision)[:40])
    reply = names.text(reply, "reply", policy.text.long_length, multiline=True)
    issue.status = ISSUES.move(issue.id, issue.status, ANSWERS[decision])
    issue.reply, issue.answered_by, issue.answered_at = reply, actor.id, utcnow()
    if issue.status == IssueStatus.REJECTED:
        issue.closed_at = issue.answered_at
    append(session, actor, events.QUALITY_ANSWERED, f"quality:{issue.id}",
           {"status": issue.status, "reply_chars": len(reply),
            "late": issue.answered_at.date() > issue.answer_due})
    return issue


def fix(session: Session, actor: Actor, policy: Policy, issue_id: int, version: int,
        reply: str) -> QualityIssue:
    """Close the issue with the dataset version that fixes it (registered after the one
    reported on)."""
    issue = get(session, actor, issue_id)
    _answering(actor, issue)
    if not any(v.version == version for v in issue.dataset.versions) \
            or version <= issue.version:
        raise InvalidInput("the fix must name a version of {name!r} registered after version "
                           "{reported} (register the corrected data first)",
                           name=issue.dataset.name, reported=issue.version)
    reply = names.text(reply, "reply", policy.text.long_length, multiline=True,
                       required=not issue.reply)
    issue.status = ISSUES.move(issue.id, issue.status, IssueStatus.FIXED)
    now = utcnow()
    if reply:
        issue.reply, issue.answered_by = reply, actor.id
    issue.answered_at = issue.answered_at or now
    issue.fixed_version, issue.closed_at = version, now
    append(session, actor, events.QUALITY_FIXED, f"quality:{issue.id}",
           {"dataset": issue.dataset.name, "version": version, "reply_chars": len(reply),
            "late": now.date() > issue.fix_due})
    return issue


def overdue(issue: QualityIssue, today: dt.date | None = None) -> bool:
    """Open past its answer deadline, or acknowledged past its fix deadline."""
    today = today or utcnow().date()
    return (issue.status == IssueStatus.OPEN and today > issue.answer_due) or (
        issue.status in OPEN and today > issue.fix_due)
