"""Appeal, complaint and incident actions: users open cases, administrators respond and
resolve them, the regulator reads them."""

from __future__ import annotations

from typing import Any

from actions.context import Context
from actions.views import CaseView
from cases import handling
from cases.models import Case
from policies.permissions import Action, permit


def _view(case: Case) -> dict[str, Any]:
    return CaseView.of({**case.as_dict(), "overdue": handling.overdue(case)})


def open_case(ctx: Context, kind: str, title: str, description: str, subject: str = "",
              severity: str = "") -> dict[str, Any]:
    """Open an appeal (against a rejected application), a complaint, or an incident report."""
    permit(ctx.actor, Action.CASE_OPEN)
    with ctx.transaction() as session:
        return _view(handling.open_case(session, ctx.actor, ctx.policy, kind, title,
                                        description, subject, severity))


def search(ctx: Context, status: str | None = None) -> list[dict[str, Any]]:
    permit(ctx.actor, Action.CASE_READ)
    with ctx.read() as session:
        return [_view(c) for c in handling.search(session, ctx.actor, status)]


def show(ctx: Context, case_id: int) -> dict[str, Any]:
    permit(ctx.actor, Action.CASE_READ)
    with ctx.read() as session:
        return _view(handling.get(session, ctx.actor, case_id))


def respond(ctx: Context, case_id: int, response: str) -> dict[str, Any]:
    permit(ctx.actor, Action.CASE_HANDLE)
    with ctx.transaction() as session:
        return _view(handling.respond(session, ctx.actor, ctx.policy, case_id, response))


def resolve(ctx: Context, case_id: int, outcome: str, resolution: str) -> dict[str, Any]:
    """Uphold or dismiss an appeal or a complaint, or resolve an incident."""
    permit(ctx.actor, Action.CASE_HANDLE)
    with ctx.transaction() as session:
        return _view(handling.resolve(session, ctx.actor, ctx.policy, case_id, outcome,
                                      resolution))
