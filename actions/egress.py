"""Egress actions: request a release, resubmit, withdraw, vote; releases and products."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from actions.context import Context
from actions.views import EgressView, ProductView, ReleaseView
from egress import export, requesting, review, values
from egress.bundle import verify_bundle
from egress.errors import NotFound
from egress.models import EgressRequest
from egress.states import AWAITING_REVIEW
from policies import Actor
from policies.permissions import Action, permit

Ask = requesting.Ask
Change = requesting.Change
Ballot = review.Ballot


def _view(req: EgressRequest, actor: Actor) -> dict[str, Any]:
    return EgressView.of(requesting.view(req, actor))


def request(ctx: Context, ask: Ask) -> dict[str, Any]:
    """Request release of a job's output; the automatic checks run at once."""
    permit(ctx.actor, Action.EGRESS_REQUEST)
    with ctx.transaction() as session:
        req = requesting.request(session, ctx.actor, ctx.policy, ctx.data,
                                 ctx.keys.pseudonym_secret, ask)
        return _view(req, ctx.actor)


def resubmit(ctx: Context, request_id: int, change: Change) -> dict[str, Any]:
    """Submit a draft, answer a return, or update a request under review (checks run again;
    earlier votes no longer count)."""
    permit(ctx.actor, Action.EGRESS_REQUEST)
    with ctx.transaction() as session:
        req = requesting.resubmit(session, ctx.actor, ctx.policy, ctx.data,
                                  ctx.keys.pseudonym_secret, request_id, change)
        return _view(req, ctx.actor)


def withdraw(ctx: Context, request_id: int, reason: str = "") -> dict[str, Any]:
    permit(ctx.actor, Action.EGRESS_REQUEST)
    with ctx.transaction() as session:
        return _view(requesting.withdraw(session, ctx.actor, ctx.policy, request_id, reason), ctx.actor)


def vote(ctx: Context, request_id: int, ballot: Ballot) -> dict[str, Any]:
    """A reviewer's vote; the last approval needed signs the release."""
    permit(ctx.actor, Action.EGRESS_REVIEW)
    with ctx.transaction() as session:
        req = review.vote(session, ctx.actor, ctx.policy, ctx.data, ctx.keys.signer,
                          request_id, ballot)
        return _view(req, ctx.actor)


def search(ctx: Context, status: str | None = None) -> list[dict[str, Any]]:
    """Requests the actor may see (reviewers: sorted by deadline)."""
    permit(ctx.actor, Action.EGRESS_READ)
    with ctx.read() as session:
        return [_view(r, ctx.actor)
                for r in requesting.list_requests(session, ctx.actor, status)]


def awaiting_review(ctx: Context) -> list[dict[str, Any]]:
    """Requests waiting for a vote, oldest deadline first."""
    rows = [r for r in search(ctx) if r["status"] in AWAITING_REVIEW]
    return sorted(rows, key=lambda r: (r["deadline"] or "9999", r["id"]))


def show(ctx: Context, request_id: int) -> dict[str, Any]:
    permit(ctx.actor, Action.EGRESS_READ)
    with ctx.read() as session:
        return _view(requesting.get(session, ctx.actor, request_id), ctx.actor)


def output_values(ctx: Context, request_id: int, offset: int = 0, limit: int = 50,
                  flagged_only: bool = False) -> dict[str, Any]:
    """A page of the values of the output a request would release, flagged cells marked:
    for reviewers of other organizations and administrators only."""
    permit(ctx.actor, Action.EGRESS_VALUES)
    with ctx.read() as session:
        return values.page(session, ctx.actor, ctx.data, request_id, offset, limit,
                           flagged_only)


def products(ctx: Context) -> list[dict[str, Any]]:
    """Released products with their registration numbers and their sources'."""
    permit(ctx.actor, Action.RELEASE_READ)
    with ctx.read() as session:
        return [ProductView.of(p) for p in requesting.products(session, ctx.actor)]


def releases(ctx: Context) -> list[dict[str, Any]]:
    permit(ctx.actor, Action.RELEASE_READ)
    with ctx.read() as session:
        return [ReleaseView.of(r.as_dict())
                for r in requesting.list_releases(session, ctx.actor)]


def _visible(ctx: Context, release_id: int) -> dict[str, Any] | None:
    return next((r for r in releases(ctx) if r["id"] == release_id), None)


def release(ctx: Context, release_id: int) -> dict[str, Any] | None:
    """A release the actor may see, with the verification of its bundle (signature, file
    hashes, ledger proof) and whether the platform's current key signed it; None if none."""
    found = _visible(ctx, release_id)
    if found is None:
        return None
    check = verify_bundle(ctx.data.fetch(found["path"]))
    check["platform_key"] = check.get("key_id") == ctx.keys.signer.key_id
    return found | {"verification": check}


def download(ctx: Context, release_id: int, fmt: str = "bundle") -> Path:
    """For the requesting organization only, each download logged: the bundle's directory
    (``bundle``), or its table written as ``csv`` or ``xlsx`` into a new temporary directory
    (the caller removes it)."""
    permit(ctx.actor, Action.RELEASE_DOWNLOAD)
    with ctx.transaction() as session:
        directory = requesting.download(session, ctx.actor, ctx.data, release_id, fmt)
    if fmt == "bundle":
        return directory
    folder = Path(tempfile.mkdtemp(prefix="tds-export-"))
    try:
        return export.write(directory, fmt, folder / f"{directory.name}.{fmt}")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def table(ctx: Context, release_id: int, offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """A page of a release's table (what left the platform), for those who may see it."""
    found = _visible(ctx, release_id)
    if found is None:
        raise NotFound("no release {release_id}", release_id=release_id)
    return export.page(ctx.data.fetch(found["path"]), offset, max(1, min(limit, 500)))
