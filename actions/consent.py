"""Consent actions: a providing department marks a dataset as used with consent, files and
withdraws its subjects' consents; providers, administrators and the regulator read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from actions.context import Context
from actions.views import ConsentChange, ConsentSummary, ConsentView
from catalog import consent
from catalog.models import utcnow
from policies.permissions import Action, permit


def _key(ctx: Context, dataset: str) -> bytes:
    return consent.digest_key(ctx.keys.pseudonym_secret, dataset)


def require(ctx: Context, dataset: str, required: bool) -> dict[str, Any]:
    """Turn consent scoping of a dataset on or off (from the next job on)."""
    permit(ctx.actor, Action.CONSENT_MANAGE)
    with ctx.transaction() as session:
        consent.require(session, ctx.actor, dataset, required)
        return ConsentSummary.of(consent.summary(session, ctx.actor, dataset))


def record(ctx: Context, dataset: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """File consents given as rows of :data:`catalog.consent.FILE_COLUMNS`."""
    permit(ctx.actor, Action.CONSENT_MANAGE)
    with ctx.transaction() as session:
        return ConsentChange.of(consent.record(session, ctx.actor, ctx.policy,
                                               _key(ctx, dataset), dataset, rows))


def record_file(ctx: Context, dataset: str, path: Path) -> dict[str, Any]:
    """File the consents of a CSV or Parquet file (columns :data:`catalog.consent.FILE_COLUMNS`)."""
    permit(ctx.actor, Action.CONSENT_MANAGE)
    return record(ctx, dataset, consent.read_file(path, ctx.policy.catalog.max_consent_rows))


def withdraw(ctx: Context, dataset: str, subjects: list[str] | None = None,
             ids: list[int] | None = None) -> dict[str, Any]:
    """End consents by the persons' key values or by record ids."""
    permit(ctx.actor, Action.CONSENT_MANAGE)
    with ctx.transaction() as session:
        return ConsentChange.of(consent.withdraw(session, ctx.actor, _key(ctx, dataset),
                                                 dataset, subjects, ids))


def summary(ctx: Context, dataset: str) -> dict[str, Any]:
    permit(ctx.actor, Action.CONSENT_READ)
    with ctx.read() as session:
        return ConsentSummary.of(consent.summary(session, ctx.actor, dataset))


def search(ctx: Context, dataset: str, status: str | None = None, limit: int = 100,
           before: int | None = None) -> list[dict[str, Any]]:
    permit(ctx.actor, Action.CONSENT_READ)
    today = utcnow().date()
    with ctx.read() as session:
        return [ConsentView.of(r.as_dict(today))
                for r in consent.search(session, ctx.actor, dataset, status, limit, before)]
