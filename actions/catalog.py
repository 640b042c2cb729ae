"""Catalog actions: register a dataset version, confirm its classification, browse, preview."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actions.context import Context
from actions.views import DatasetView
from catalog import datasets, previews
from catalog.models import Dataset
from policies.permissions import Action, permit

Progress = Callable[[str], None] | None


@dataclass(frozen=True)
class Classification:
    """A provider's confirmation of the scan's column classification; None leaves a part as
    it is (``person_key`` "": no person key, each row its own contributor)."""

    entities: dict[str, str | None] | None = None
    quasi_identifiers: list[str] | None = None
    confidential: list[str] | None = None
    level: str | None = None
    person_key: str | None = None
    field_names: dict[str, str] | None = None  # column -> Chinese field name ("": remove)


def _described(dataset: Dataset, detail: bool = False) -> dict[str, Any]:
    return DatasetView.of(datasets.describe(dataset, detail))


def register(ctx: Context, source: Path, registration: datasets.Registration,
             preview: bool = True, progress: Progress = None) -> dict[str, Any]:
    """Register a file as a dataset (or a new version of one); its simulated preview is built
    after the commit (at once, or in the background where the dispatcher defers work)."""
    permit(ctx.actor, Action.DATASET_REGISTER)
    with ctx.transaction() as session:
        version = datasets.register(session, ctx.actor, ctx.policy, ctx.data, source,
                                    registration)
        version_id = version.id
        described = datasets.describe(version.dataset, detail=True)
    if preview:
        built = ctx.dispatcher.defer(previews.build, ctx.store.transaction, ctx.data, ctx.policy,
                                     version_id, progress=progress)
        if built is not None:
            described["preview"] = built
    return DatasetView.of(described)


def classify(ctx: Context, name: str, change: Classification) -> dict[str, Any]:
    permit(ctx.actor, Action.DATASET_CLASSIFY)
    with ctx.transaction() as session:
        version = datasets.classify(session, ctx.actor, name, change.entities,
                                    change.quasi_identifiers, change.confidential, change.level,
                                    change.person_key, change.field_names)
        return _described(version.dataset, detail=True)


def search(ctx: Context, domain: str | None = None, level: str | None = None,
           attribute: str | None = None, words: str | None = None,
           detail: bool = False) -> list[dict[str, Any]]:
    permit(ctx.actor, Action.DATASET_READ)
    with ctx.read(autocommit=True) as session:
        return [_described(d, detail=detail)
                for d in datasets.list_datasets(session, domain, level, attribute, words)]


def domains(ctx: Context) -> list[str]:
    """The domains of the catalog's datasets, sorted."""
    permit(ctx.actor, Action.DATASET_READ)
    with ctx.read(autocommit=True) as session:
        return sorted({d.domain for d in datasets.list_datasets(session)})


def show_provided(ctx: Context, name: str) -> dict[str, Any]:
    """A dataset the actor provides, in detail (to confirm its classification)."""
    permit(ctx.actor, Action.DATASET_CLASSIFY)
    with ctx.read() as session:
        return _described(datasets.get_provided(session, ctx.actor, name), detail=True)


def provided(ctx: Context) -> list[dict[str, Any]]:
    """The datasets the actor provides (administrators: all)."""
    permit(ctx.actor, Action.DATASET_REGISTER)
    with ctx.read() as session:
        return [_described(d) for d in datasets.list_provided(session, ctx.actor)]


def show(ctx: Context, name: str) -> dict[str, Any]:
    permit(ctx.actor, Action.DATASET_READ)
    with ctx.read(autocommit=True) as session:
        return _described(datasets.get(session, name), detail=True)


def columns(ctx: Context, name: str) -> list[str]:
    """The column names of a dataset's latest version."""
    permit(ctx.actor, Action.DATASET_READ)
    with ctx.read(autocommit=True) as session:
        return list(datasets.get(session, name).latest.column_names)


def preview(ctx: Context, name: str, rows: int) -> dict[str, Any]:
    """The simulated preview of the latest version: labelled, with its quality and leak
    report."""
    permit(ctx.actor, Action.DATASET_READ)
    with ctx.read(autocommit=True) as session:
        return previews.show(ctx.data, datasets.get(session, name).latest, rows)


def build_preview(ctx: Context, name: str, progress: Progress = None) -> dict[str, Any]:
    """(Re)build the simulated preview of the latest version now."""
    permit(ctx.actor, Action.PREVIEW_BUILD)
    with ctx.read() as session:
        version_id = datasets.get(session, name).latest.id
    return previews.build(ctx.store.transaction, ctx.data, ctx.policy, version_id,
                          progress=progress)
