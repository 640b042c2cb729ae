"""Application and grant actions: apply, decide, revoke, and what each role may read of them."""

from __future__ import annotations

from typing import Any

from actions.context import Context
from actions.views import ApplicationView, GrantView
from catalog import applications
from policies.permissions import Action, permit
from sandbox import jobs


def submit(ctx: Context, request: applications.Request) -> dict[str, Any]:
    """Apply for the data one scenario needs: one scenario, one list, one approval."""
    permit(ctx.actor, Action.APPLICATION_SUBMIT)
    with ctx.transaction() as session:
        return ApplicationView.of(applications.submit(session, ctx.actor, ctx.policy,
                                                      request).as_dict())


def search(ctx: Context, status: str | None = None) -> list[dict[str, Any]]:
    permit(ctx.actor, Action.APPLICATION_READ)
    with ctx.read() as session:
        return [ApplicationView.of(a.as_dict())
                for a in applications.list_applications(session, ctx.actor, status)]


def show(ctx: Context, application_id: int) -> dict[str, Any]:
    permit(ctx.actor, Action.APPLICATION_READ)
    with ctx.read() as session:
        return ApplicationView.of(applications.get(session, ctx.actor, application_id).as_dict())


def decide(ctx: Context, application_id: int, decision: str | bool,
           comment: str) -> dict[str, Any]:
    """Approve (creating a grant), reject, or return an application for amendment."""
    permit(ctx.actor, Action.APPLICATION_DECIDE)
    with ctx.transaction() as session:
        return ApplicationView.of(applications.decide(session, ctx.actor, ctx.policy,
                                                      application_id, decision, comment).as_dict())


def amend(ctx: Context, application_id: int, request: applications.Request) -> dict[str, Any]:
    """Resubmit a returned application with changes; its deadline counts again."""
    permit(ctx.actor, Action.APPLICATION_SUBMIT)
    with ctx.transaction() as session:
        return ApplicationView.of(applications.amend(session, ctx.actor, ctx.policy,
                                                     application_id, request).as_dict())


def withdraw(ctx: Context, application_id: int) -> dict[str, Any]:
    """The merchant takes back an application not yet decided."""
    permit(ctx.actor, Action.APPLICATION_SUBMIT)
    with ctx.transaction() as session:
        return ApplicationView.of(applications.withdraw(session, ctx.actor,
                                                        application_id).as_dict())


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


def revoke(ctx: Context, grant_id: int, reason: str) -> dict[str, Any]:
    """Revoke a grant: new jobs are refused; its workspace is deleted after the commit."""
    permit(ctx.actor, Action.GRANT_REVOKE)
    with ctx.transaction() as session:
        return GrantView.of(applications.revoke(session, ctx.actor, ctx.policy, grant_id, reason,
                                                ctx.data).as_dict())
