"""A merchant's own tables in a grant's workspace: upload, list, delete (sandbox.own_data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from actions.context import Context
from actions.views import OwnDataView
from policies.permissions import Action, permit
from sandbox import own_data


def upload(ctx: Context, grant_id: int, source: Path, name: str,
           person_key: str | None = None) -> dict[str, Any]:
    """Scan and add ``source`` to the workspace as table ``name``; its simulated side is
    built after the commit (at once, or in the background where work is deferred)."""
    permit(ctx.actor, Action.JOB_SUBMIT)
    with ctx.transaction() as session:
        own = own_data.upload(session, ctx.actor, ctx.policy, ctx.data, grant_id, source, name,
                              person_key or None)
        own_id, shown = own.id, own.as_dict()
    built = ctx.dispatcher.defer(own_data.build_preview, ctx.store.transaction, ctx.data,
                                 ctx.policy, own_id)
    if built is not None:
        shown["preview_status"] = built
    return OwnDataView.of(shown)


def listing(ctx: Context, grant_id: int) -> list[dict[str, Any]]:
    permit(ctx.actor, Action.JOB_READ)
    with ctx.read() as session:
        return [OwnDataView.of(o.as_dict())
                for o in own_data.listed(session, ctx.actor, grant_id)]


def delete(ctx: Context, own_id: int) -> dict[str, Any]:
    permit(ctx.actor, Action.JOB_SUBMIT)
    with ctx.transaction() as session:
        return OwnDataView.of(own_data.delete(session, ctx.actor, ctx.data, own_id).as_dict())
