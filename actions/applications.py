"""Application and grant actions: apply, decide, revoke, and what each role may read of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

from accounts import qualification
from actions.context import Context
from actions.views import AgreementView, ApplicationView, AttachmentView, GrantView
from catalog import applications, reviews
from catalog.models import Application
from policies import Actor, Policy, Role
from policies.permissions import Action, permit
from sandbox import jobs


def view(actor: Actor, policy: Policy, app: Application) -> dict[str, Any]:
    """An application as ``actor`` sees it: a provider sees the parts of its own datasets."""
    data = app.as_dict()
    if actor.role == Role.PROVIDER:
        mine = {i.dataset_version.dataset.name for i in app.items
                if i.dataset_version.dataset.provider_id == actor.id}
        data["items"] = [i for i in data["items"] if i["dataset"] in mine]
        data["checks"] = [c for c in data["checks"] if c["dataset"] in mine]
    data["missing"] = (reviews.blockers(policy, app) if app.status in reviews.OPEN_FOR_MATERIALS
                       else [])
    if actor.role == Role.PROVIDER:  # what the other departments decide is not theirs to see
        data["missing"] = [b for b in data["missing"]
                           if b["reason"] == "attachment_missing" or b["subject"] in mine]
    return ApplicationView.of(data)


def submit(ctx: Context, request: applications.Request) -> dict[str, Any]:
    """Apply for the data one scenario needs: one scenario, one list, one approval."""
    permit(ctx.actor, Action.APPLICATION_SUBMIT)
    with ctx.transaction() as session:
        qualification.require_qualified(session, ctx.policy, ctx.actor.org)
        return view(ctx.actor, ctx.policy, applications.submit(session, ctx.actor, ctx.policy,
                                                          request))


def search(ctx: Context, status: str | None = None) -> list[dict[str, Any]]:
    permit(ctx.actor, Action.APPLICATION_READ)
    with ctx.read() as session:
        return [view(ctx.actor, ctx.policy, a)
                for a in applications.list_applications(session, ctx.actor, status)]


def show(ctx: Context, application_id: int) -> dict[str, Any]:
    permit(ctx.actor, Action.APPLICATION_READ)
    with ctx.read() as session:
        return view(ctx.actor, ctx.policy, applications.get(session, ctx.actor, application_id))


def decide(ctx: Context, application_id: int, decision: str | bool,
           comment: str, assessment: dict[str, str] | None = None) -> dict[str, Any]:
    """Approve (creating a grant), reject, or return an application for amendment, with the
    reviewer's assessment of its reasonableness, compliance and security."""
    permit(ctx.actor, Action.APPLICATION_DECIDE)
    with ctx.transaction() as session:
        return view(ctx.actor, ctx.policy, applications.decide(
            session, ctx.actor, ctx.policy, application_id, decision, comment, assessment))


def check(ctx: Context, application_id: int, dataset: str, verdict: str,
          assessment: dict[str, str] | None, comment: str) -> dict[str, Any]:
    """The providing department agrees to or refuses its dataset's part (核查)."""
    permit(ctx.actor, Action.APPLICATION_CHECK)
    with ctx.transaction() as session:
        app = applications.get(session, ctx.actor, application_id)
        reviews.check(session, ctx.actor, ctx.policy, app, dataset, verdict, assessment, comment)
        return view(ctx.actor, ctx.policy, app)


def to_check(ctx: Context) -> list[dict[str, Any]]:
    """Applications with a part the actor's department has still to check."""
    permit(ctx.actor, Action.APPLICATION_CHECK)
    with ctx.read() as session:
        return [view(ctx.actor, ctx.policy, a) for a in reviews.awaiting_check(session, ctx.actor)]


def attach(ctx: Context, application_id: int, kind: str, filename: str,
           stream: BinaryIO) -> dict[str, Any]:
    """File a document (申请函, 承诺书, other material) with an application in review."""
    permit(ctx.actor, Action.APPLICATION_SUBMIT)
    with ctx.transaction() as session:
        app = applications.get(session, ctx.actor, application_id)
        return AttachmentView.of(reviews.attach(session, ctx.actor, ctx.policy, ctx.data, app,
                                                kind, filename, stream).as_dict())


def detach(ctx: Context, application_id: int, attachment_id: int) -> dict[str, Any]:
    """Take back a document filed with an application not yet decided."""
    permit(ctx.actor, Action.APPLICATION_SUBMIT)
    with ctx.transaction() as session:
        app = applications.get(session, ctx.actor, application_id)
        reviews.detach(session, ctx.actor, ctx.data, app, attachment_id)
        return view(ctx.actor, ctx.policy, app)


def attachment_file(ctx: Context, application_id: int,
                    attachment_id: int) -> tuple[Path, dict[str, Any]]:
    """An attachment's file (checked against its SHA-256) and its description, for whoever
    may see the application."""
    permit(ctx.actor, Action.APPLICATION_READ)
    with ctx.read() as session:
        app = applications.get(session, ctx.actor, application_id)
        found = reviews.attachment(app, attachment_id)
        return reviews.attachment_file(ctx.data, found), AttachmentView.of(found.as_dict())


def amend(ctx: Context, application_id: int, request: applications.Request) -> dict[str, Any]:
    """Resubmit a returned application with changes; its deadline counts again."""
    permit(ctx.actor, Action.APPLICATION_SUBMIT)
    with ctx.transaction() as session:
        return view(ctx.actor, ctx.policy, applications.amend(session, ctx.actor, ctx.policy,
                                                         application_id, request))


def withdraw(ctx: Context, application_id: int) -> dict[str, Any]:
    """The merchant takes back an application not yet decided."""
    permit(ctx.actor, Action.APPLICATION_SUBMIT)
    with ctx.transaction() as session:
        return view(ctx.actor, ctx.policy, applications.withdraw(session, ctx.actor,
                                                            application_id))


def grants(ctx: Context) -> list[dict[str, Any]]:
    permit(ctx.actor, Action.GRANT_READ)
    with ctx.read() as session:
        return [GrantView.of(jobs.grant_view(ctx.policy, g))
                for g in applications.list_grants(session, ctx.actor)]


def grant(ctx: Context, grant_id: int) -> dict[str, Any]:
    permit(ctx.actor, Action.GRANT_READ)
    with ctx.read() as session:
        return GrantView.of(jobs.grant_view(
            ctx.policy, applications.get_grant(session, ctx.actor, grant_id)))


def agreement(ctx: Context, grant_id: int) -> dict[str, Any]:
    """A grant's operation agreement (格式协议), as filled in, and whether it was accepted."""
    permit(ctx.actor, Action.GRANT_READ)
    with ctx.read() as session:
        grant = applications.get_grant(session, ctx.actor, grant_id)
        return AgreementView.of({"grant_id": grant.id, "text": grant.agreement,
                                 **grant.agreement_state()})


def accept_agreement(ctx: Context, grant_id: int) -> dict[str, Any]:
    """The merchant accepts its grant's operation agreement; its jobs may then start."""
    permit(ctx.actor, Action.GRANT_USE)
    with ctx.transaction() as session:
        grant = applications.accept_agreement(session, ctx.actor, grant_id)
        return AgreementView.of({"grant_id": grant.id, "text": grant.agreement,
                                 **grant.agreement_state()})


def revoke(ctx: Context, grant_id: int, reason: str) -> dict[str, Any]:
    """Revoke a grant: new jobs are refused; its workspace is deleted after the commit."""
    permit(ctx.actor, Action.GRANT_REVOKE)
    with ctx.transaction() as session:
        return GrantView.of(applications.revoke(session, ctx.actor, ctx.policy, grant_id, reason,
                                                ctx.data).as_dict())
