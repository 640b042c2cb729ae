"""Data-quality feedback actions: merchants report issues on dataset versions, providing
departments acknowledge, reject or fix them; everyone reads what concerns them."""

from __future__ import annotations

from typing import Any

from actions.context import Context
from actions.views import QualityIssueView
from catalog import quality
from catalog.models import QualityIssue
from policies.permissions import Action, permit


def _view(issue: QualityIssue) -> dict[str, Any]:
    return QualityIssueView.of({**issue.as_dict(), "overdue": quality.overdue(issue)})


def report(ctx: Context, dataset: str, kind: str, columns: list[str], description: str,
           version: int | None = None) -> dict[str, Any]:
    """Report a data-quality issue on a dataset version (default: the latest)."""
    permit(ctx.actor, Action.QUALITY_REPORT)
    with ctx.transaction() as session:
        return _view(quality.report(session, ctx.actor, ctx.policy, dataset, kind, columns,
                                    description, version))


def search(ctx: Context, status: str | None = None,
           dataset: str | None = None) -> list[dict[str, Any]]:
    permit(ctx.actor, Action.QUALITY_READ)
    with ctx.read() as session:
        return [_view(i) for i in quality.search(session, ctx.actor, status, dataset)]


def show(ctx: Context, issue_id: int) -> dict[str, Any]:
    permit(ctx.actor, Action.QUALITY_READ)
    with ctx.read() as session:
        return _view(quality.get(session, ctx.actor, issue_id))


def answer(ctx: Context, issue_id: int, decision: str, reply: str) -> dict[str, Any]:
    """Acknowledge (a fix will follow) or reject an issue, with a reply to the merchant."""
    permit(ctx.actor, Action.QUALITY_ANSWER)
    with ctx.transaction() as session:
        return _view(quality.answer(session, ctx.actor, ctx.policy, issue_id, decision, reply))


def fix(ctx: Context, issue_id: int, version: int, reply: str = "") -> dict[str, Any]:
    """Close an issue with the new dataset version that fixes it."""
    permit(ctx.actor, Action.QUALITY_ANSWER)
    with ctx.transaction() as session:
        return _view(quality.fix(session, ctx.actor, ctx.policy, issue_id, version, reply))
