"""Notice actions: a user's to-dos and notices, marking them read, e-mail digests."""

from __future__ import annotations

from typing import Any

from actions.context import Context
from notices import inbox, mail, todo
from policies.permissions import Action, permit

page = inbox.page  # the console page of a notice's object


def todos(ctx: Context) -> list[dict[str, Any]]:
    """What waits for the actor, by kind, with how much of it is due soon."""
    permit(ctx.actor, Action.ACCOUNT_READ)
    with ctx.read() as session:
        return [t.as_dict() for t in todo.todos(session, ctx.actor, ctx.policy)]


def notices(ctx: Context, limit: int = 50) -> list[dict[str, Any]]:
    """The actor's newest notices (events on their work), newest first."""
    permit(ctx.actor, Action.ACCOUNT_READ)
    with ctx.read() as session:
        return inbox.notices(session, ctx.actor, limit=max(1, min(limit, 200)))


def summary(ctx: Context) -> dict[str, int]:
    """Counts for the console's header: to-dos (and of them due soon), unread notices."""
    permit(ctx.actor, Action.ACCOUNT_READ)
    with ctx.read() as session:
        items = todo.todos(session, ctx.actor, ctx.policy)
        return {"todo": sum(t.count for t in items), "near": sum(t.near for t in items),
                "unread": inbox.unread(session, ctx.actor)}


def read_all(ctx: Context) -> dict[str, int]:
    permit(ctx.actor, Action.ACCOUNT_READ)
    with ctx.transaction() as session:
        return {"read_seq": inbox.read_all(session, ctx.actor)}


def send_digests(ctx: Context) -> dict[str, int]:
    """E-mail the notices since each user's last digest (the sweep calls it)."""
    permit(ctx.actor, Action.SWEEP)
    with ctx.transaction() as session:
        return mail.send_digests(session, ctx.policy)
