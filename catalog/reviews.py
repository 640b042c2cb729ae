"""Two-level review of applications (核查 + 审核): the providing department of each listed
dataset checks its part first, the merchant's materials (申请函, 承诺书) travel with the
application, and the platform's reviewer decides with a structured assessment of its
reasonableness, compliance and security."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import events, names
from catalog.errors import Conflict, InvalidInput, NotFound, StorageFull
from catalog.models import Application, ApplicationAttachment, ApplicationCheck, Dataset, utcnow
from catalog.states import ApplicationStatus, CheckVerdict
from kernel.base import after_commit, on_rollback
from lineage import append
from policies import Actor, Forbidden, Policy, Role, storage_full
from policies.permissions import Action, permit
from policies.sections import ATTACHMENT_KINDS
from storage import Storage

# The three points a reviewer weighs (the Guangzhou review norms): is the use reasonable for
# the scenario (合理性), lawful and within the rules (合规性), and safe (安全性).
ASSESSMENT_POINTS = ("reasonableness", "compliance", "security")
RATINGS = ("pass", "concern", "fail")
VERDICTS = {"agree": CheckVerdict.AGREED, "refuse": CheckVerdict.REFUSED}
# Where the merchant may still change the materials: before a decision.
OPEN_FOR_MATERIALS = (ApplicationStatus.SUBMITTED, ApplicationStatus.ESCALATED,
                      ApplicationStatus.RETURNED)
_CHECKABLE = (ApplicationStatus.SUBMITTED, ApplicationStatus.ESCALATED)
# What each kind of file starts with: an attachment must be what its name says.
_MAGIC = {".pdf": (b"%PDF-",), ".ofd": (b"PK\x03\x04",), ".png": (b"\x89PNG\r\n\x1a\n",),
          ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",)}


def assessment(value: Any, *, required: bool) -> dict[str, str] | None:
    """A structured assessment: each of :data:`ASSESSMENT_POINTS` rated pass, concern or fail."""
    if value in (None, {}) and not required:
        return None
    if not isinstance(value, dict):
        raise InvalidInput("an assessment rates {points}, each pass, concern or fail",
                           points=", ".join(ASSESSMENT_POINTS))
    unknown = [k for k in value if k not in ASSESSMENT_POINTS]
    if unknown:
        raise InvalidInput("an assessment has no point {point!r} (points: {points})",
                           point=str(unknown[0])[:40], points=", ".join(ASSESSMENT_POINTS))
    missing = [p for p in ASSESSMENT_POINTS if p not in value]
    if missing:
        raise InvalidInput("an assessment must rate {point}", point=missing[0])
    bad = [p for p in ASSESSMENT_POINTS if value[p] not in RATINGS]
    if bad:
        raise InvalidInput("rate {point} pass, concern or fail", point=bad[0])
    return {p: value[p] for p in ASSESSMENT_POINTS}


def open_checks(session: Session, policy: Policy, app: Application) -> None:
    """A pending check for each dataset the (new or amended) list names; an amended list is
    checked afresh."""
    for check in list(app.checks):
        app.checks.remove(check)
        session.delete(check)
    session.flush()
    if not policy.applications.provider_check:
        return
    for dataset_id in dict.fromkeys(i.dataset_version.dataset_id for i in app.items):
        app.checks.append(ApplicationCheck(dataset_id=dataset_id,
                                           verdict=CheckVerdict.PENDING, comment=""))


def may_check(actor: Actor, dataset: Dataset) -> bool:
    return actor.role == Role.ADMIN or (actor.role == Role.PROVIDER
                                        and dataset.provider_id == actor.id)


def check(session: Session, actor: Actor, policy: Policy, app: Application, dataset_name: str,
          verdict: str, rated: Any, comment: str) -> ApplicationCheck:
    """The providing department agrees to or refuses its dataset's part of ``app``."""
    permit(actor, Action.APPLICATION_CHECK)
    found = next((c for c in app.checks if c.dataset.name == dataset_name), None)
    if found is None:
        raise NotFound("application {id} lists no dataset {name!r} to check",
                       id=app.id, name=str(dataset_name)[:80])
    if not may_check(actor, found.dataset):
        raise Forbidden("only the providing department of {name!r} checks its part",
                        name=found.dataset.name)
    if app.status not in _CHECKABLE:
        raise Conflict("application {id} is {status}: only one in review is checked",
                       id=app.id, status=app.status)
    if verdict not in VERDICTS:
        raise InvalidInput("a check agrees or refuses (agree, refuse), not {value!r}",
                           value=str(verdict)[:40])
    rating = assessment(rated, required=True)
    concerns = any(r != "pass" for r in rating.values())
    comment = names.text(comment, "comment", policy.text.long_length, multiline=True,
                         required=verdict == "refuse" or concerns)
    if verdict == "agree" and rating and "fail" in rating.values():
        raise InvalidInput("a check that rates a point fail cannot agree: refuse it, or rate "
                           "the point concern and say why")
    found.verdict, found.assessment, found.comment = VERDICTS[verdict], rating, comment
    found.checked_by, found.checked_at = actor.id, utcnow()
    append(session, actor, events.APPLICATION_CHECKED, f"application:{app.id}",
           {"dataset": found.dataset.name, "verdict": found.verdict, "assessment": rating,
            "comment_chars": len(comment)})
    return found


def missing_attachments(policy: Policy, app: Application) -> list[str]:
    have = {a.kind for a in app.attachments}
    return [k for k in policy.applications.required_attachments if k not in have]


def blockers(policy: Policy, app: Application) -> list[dict[str, str]]:
    """Why ``app`` cannot be approved yet (none: it can), each a reason (check_pending,
    check_refused, attachment_missing) and its subject (a dataset, or a kind of attachment)."""
    found = [{"reason": f"check_{c.verdict}", "subject": c.dataset.name} for c in app.checks
             if c.verdict in (CheckVerdict.PENDING, CheckVerdict.REFUSED)]
    found += [{"reason": "attachment_missing", "subject": kind}
              for kind in missing_attachments(policy, app)]
    return found


def ready(policy: Policy, app: Application) -> None:
    """Raise :class:`Conflict` with the first reason ``app`` cannot be approved yet."""
    reasons = blockers(policy, app)
    if not reasons:
        return
    reason, subject = reasons[0]["reason"], reasons[0]["subject"]
    if reason == "check_pending":
        raise Conflict("the providing department of {subject!r} has not checked its part yet",
                       subject=subject)
    if reason == "check_refused":
        raise Conflict("the providing department of {subject!r} refused its part: reject the "
                       "application or return it for amendment", subject=subject)
    raise Conflict("the application lacks its {subject} attachment", subject=subject)


def silence_may_pass(policy: Policy, app: Application) -> bool:
    """Whether the review's silence may approve ``app`` past its deadline as far as the first
    level goes: no department refused its part, and the required materials are there."""
    return not missing_attachments(policy, app) and not any(
        c.verdict == CheckVerdict.REFUSED for c in app.checks)


def deem_pending(app: Application) -> None:
    """Checks nobody did by the deadline of an application deemed approved."""
    for c in app.checks:
        if c.verdict == CheckVerdict.PENDING:
            c.verdict = CheckVerdict.DEEMED


# -- attachments ---------------------------------------------------------------------------


def attach(session: Session, actor: Actor, policy: Policy, data: Storage, app: Application,
           kind: str, filename: str, stream: BinaryIO) -> ApplicationAttachment:
    """File a document with ``app`` (its merchant, before a decision). The bytes go to the
    platform's storage; a second file of a kind other than ``other`` replaces the first."""
    permit(actor, Action.APPLICATION_SUBMIT)
    if app.status not in OPEN_FOR_MATERIALS:
        raise Conflict("application {id} is {status}: its materials can no longer change",
                       id=app.id, status=app.status)
    if kind not in ATTACHMENT_KINDS:
        raise InvalidInput("an attachment is one of {kinds}, not {value!r}",
                           kinds=", ".join(ATTACHMENT_KINDS), value=str(kind)[:40])
    name = names.text(Path(str(filename or "")).name, "file name", 200)
    suffix = Path(name).suffix.lower()
    allowed = policy.applications.attachment_types
    if suffix not in allowed:
        raise InvalidInput("an attachment must be one of {types}, not {value!r}",
                           types=", ".join(allowed), value=suffix or "(none)")
    limit = policy.attachment_max_bytes
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise InvalidInput("the attachment exceeds the policy's {limit} bytes", limit=limit)
    if not body:
        raise InvalidInput("the attachment is empty")
    if not body.startswith(_MAGIC.get(suffix, (b"",))):
        raise InvalidInput("the file is not a {suffix} file: its contents do not match its name",
                           suffix=suffix)
    replaced = [a for a in app.attachments if a.kind == kind and kind != "other"]
    made = ApplicationAttachment(kind=kind, filename=name, size=len(body),
                                 sha256=hashlib.sha256(body).hexdigest(), uploaded_by=actor.id,
                                 uploaded_at=utcnow())
    app.attachments.append(made)
    session.flush()
    _store(data, made.path, body)
    on_rollback(session, lambda: data.remove(made.path))
    for old in replaced:
        _drop(session, data, app, old)
    append(session, actor, events.APPLICATION_ATTACHED, f"application:{app.id}",
           {"attachment_id": made.id, "kind": kind, "bytes": made.size, "sha256": made.sha256,
            "replaced": [a.id for a in replaced]})
    return made


def detach(session: Session, actor: Actor, data: Storage, app: Application,
           attachment_id: int) -> None:
    """The merchant takes an attachment back before the decision."""
    permit(actor, Action.APPLICATION_SUBMIT)
    if app.status not in OPEN_FOR_MATERIALS:
        raise Conflict("application {id} is {status}: its materials can no longer change",
                       id=app.id, status=app.status)
    found = attachment(app, attachment_id)
    _drop(session, data, app, found)
    append(session, actor, events.APPLICATION_DETACHED, f"application:{app.id}",
           {"attachment_id": found.id, "kind": found.kind})


def attachment(app: Application, attachment_id: int) -> ApplicationAttachment:
    found = next((a for a in app.attachments if a.id == attachment_id), None)
    if found is None:
        raise NotFound("application {id} has no attachment {attachment_id}", id=app.id,
                       attachment_id=attachment_id)
    return found


def attachment_file(data: Storage, found: ApplicationAttachment) -> Path:
    """The attachment's file on this machine, checked against its recorded SHA-256."""
    try:
        path = data.fetch(found.path)
    except FileNotFoundError:
        raise NotFound("attachment {id}'s file is missing from the platform's storage",
                       id=found.id) from None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != found.sha256:
        raise Conflict("attachment {id}'s file no longer matches its recorded SHA-256",
                       id=found.id)
    return path


def _store(data: Storage, relative: str, body: bytes) -> None:
    target = data.local(relative)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        data.put(relative)
    except OSError as exc:
        target.unlink(missing_ok=True)
        if storage_full(exc):
            raise StorageFull("the platform's storage is full: the attachment was not saved; "
                              "ask the platform's operators for space") from exc
        raise


def _drop(session: Session, data: Storage, app: Application, old: ApplicationAttachment) -> None:
    app.attachments.remove(old)
    session.delete(old)
    path = old.path
    after_commit(session, lambda: data.remove(path))


def awaiting_check(session: Session, actor: Actor) -> list[Application]:
    """Applications in review with a part ``actor``'s department has still to check."""
    pending = select(ApplicationCheck.application_id).where(
        ApplicationCheck.verdict == CheckVerdict.PENDING)
    if actor.role != Role.ADMIN:
        pending = pending.join(Dataset, Dataset.id == ApplicationCheck.dataset_id).where(
            Dataset.provider_id == actor.id)
    return list(session.scalars(
        select(Application).where(Application.id.in_(pending),
                                  Application.status.in_(tuple(s.value for s in _CHECKABLE)))
        .order_by(Application.deadline, Application.id)))
