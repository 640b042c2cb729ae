"""Qualification actions: an organization applies to be an operator, an administrator reviews
it into public notice (or rejects it); the notice itself is :func:`actions.public.operators`."""

from __future__ import annotations

from typing import Any

from accounts import qualification
from actions.context import Context
from actions.views import QualificationView
from policies.permissions import Action, permit


def apply(ctx: Context, credit_code: str, legal_representative: str, security_officer: str,
          conditions: dict[str, str]) -> dict[str, Any]:
    """Apply for the organization's qualification (Art. 20-21)."""
    permit(ctx.actor, Action.QUALIFICATION_APPLY)
    with ctx.transaction() as session:
        return QualificationView.of(qualification.apply(
            session, ctx.actor, ctx.policy, credit_code, legal_representative,
            security_officer, conditions).as_dict())


def search(ctx: Context, status: str | None = None) -> list[dict[str, Any]]:
    permit(ctx.actor, Action.QUALIFICATION_READ)
    with ctx.read() as session:
        return [QualificationView.of(q.as_dict())
                for q in qualification.search(session, ctx.actor, status)]


def show(ctx: Context, qualification_id: int) -> dict[str, Any]:
    permit(ctx.actor, Action.QUALIFICATION_READ)
    with ctx.read() as session:
        return QualificationView.of(qualification.get(session, ctx.actor,
                                                      qualification_id).as_dict())


def review(ctx: Context, qualification_id: int, approve: bool, comment: str) -> dict[str, Any]:
    """Approve into public notice, or reject (also during the notice, on an objection)."""
    permit(ctx.actor, Action.QUALIFICATION_REVIEW)
    with ctx.transaction() as session:
        return QualificationView.of(qualification.review(
            session, ctx.actor, ctx.policy, qualification_id, approve, comment).as_dict())

