"""What anyone may read without signing in (Measures Art. 11 and 35): the catalog with its
simulated previews, the disclosures of grants and released products, the list of products with
their charging standards, and the annual operation report's public part.

Nobody acts here, so nothing is scoped by a role: each view is a whitelist of fields chosen for
the public. A dataset's file hash, its scan's hit shares and a preview's build error stay for
signed-in users; a disclosure carries no figure a merchant could difference against its own
jobs (rows produced), and no security counts."""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from accounts import qualification
from actions.context import Sessions
from actions.views import NoticedOperator
from catalog import datasets, previews
from catalog.models import Dataset
from commerce import products as commerce_products
from policies import LEVELS, Policy
from reporting import annual
from reporting.report import disclosure, years
from storage import Storage

_DATASET_FIELDS = ("name", "registration_no", "title", "description", "domain", "level",
                   "attribute", "department", "update_frequency", "field_names", "version",
                   "rows", "columns")


class Site(Protocol):
    """A home as the public reads it: its store, policy and storage."""

    @property
    def store(self) -> Sessions: ...

    @property
    def policy(self) -> Policy: ...

    @property
    def data(self) -> Storage: ...


def previewable(policy: Policy, level: str) -> bool:
    """Whether the public sees simulated rows of a dataset of ``level``."""
    return LEVELS.index(level) <= LEVELS.index(policy.web.public_preview_max_level)


def _entry(policy: Policy, dataset: Dataset, detail: bool = False) -> dict[str, Any]:
    described = datasets.describe(dataset, detail=detail)
    out = {k: described[k] for k in _DATASET_FIELDS}
    out["preview"] = dataset.latest.preview_status if previewable(policy, dataset.level) \
        else "not_public"
    if detail:
        out["schema"] = [{"name": c["name"], "type": c["type"]} for c in described["schema"]]
    return out


def catalog(site: Site, words: str | None = None, domain: str | None = None) -> list[dict[str, Any]]:
    """The catalog's entries matching every one of ``words``."""
    with site.store.read(autocommit=True) as session:
        return [_entry(site.policy, d)
                for d in datasets.list_datasets(session, domain or None, search=words)]


def dataset(site: Site, name: str) -> dict[str, Any]:
    """One entry with its columns (names, types, Chinese field names)."""
    with site.store.read(autocommit=True) as session:
        return _entry(site.policy, datasets.get(session, name), detail=True)


def preview(site: Site, name: str, rows: int) -> dict[str, Any] | None:
    """The first ``rows`` simulated rows, labelled, with the preview's quality; None when the
    dataset's level keeps its preview from the public."""
    with site.store.read(autocommit=True) as session:
        version = datasets.get(session, name).latest
        if not previewable(site.policy, version.dataset.level):
            return None
        shown = previews.show(site.data, version, rows)
    report = shown.get("report") or {}
    return {"dataset": shown["dataset"], "version": shown["version"], "status": shown["status"],
            "label": shown["label"], "columns": shown["columns"], "rows": shown["rows"],
            "quality": report.get("quality"), "built_at": shown["built_at"]}


def disclosure_years(site: Site) -> list[int]:
    """The years the ledger has events of, newest first."""
    with site.store.read(autocommit=True) as session:
        return years(session)


# A year's disclosure reads that year's whole ledger: anonymous readers get a copy at most
# this old, so they cannot make the server read the ledger on every request.
DISCLOSURE_SECONDS = 300.0
_disclosed: dict[tuple[str, int], tuple[float, dict[str, Any]]] = {}
_disclosed_lock = threading.Lock()


def disclosed(site: Site, year: int) -> dict[str, Any]:
    """The year's disclosure as the public reads it (computed at most every
    :data:`DISCLOSURE_SECONDS`): grants (organization, scenario, datasets, term), released
    products (number, name, sources), how applications were decided, and what the catalog
    supplied."""
    key = (str(getattr(site, "root", id(site))), year)
    with _disclosed_lock:
        kept = _disclosed.get(key)
        if kept and time.monotonic() - kept[0] < DISCLOSURE_SECONDS:
            return kept[1]
    made = _disclose(site, year)
    with _disclosed_lock:
        _disclosed[key] = (time.monotonic(), made)
    return made


def _disclose(site: Site, year: int) -> dict[str, Any]:
    with site.store.read() as session:
        report = disclosure(session, year)
    indicators = report["indicators"]
    return {
        "year": year, "grants": report["grants"], "grant_changes": report["grant_changes"],
        "products": [{k: p[k] for k in ("product_no", "product", "sources", "time")}
                     for p in report["products"]],
        "review_timeliness": report["review_timeliness"],
        "resource_supply": indicators["resource_supply"],
        "operation_benefits": indicators["operation_benefits"],
        "dataset_use": [{k: u[k] for k in ("dataset", "jobs", "releases")}
                        for u in report["dataset_use"]],
        "controls": indicators["data_security"]["controls"],
    }


_OFFERED_FIELDS = ("product_no", "name", "org", "category", "free", "sources", "price_cents",
                   "price_unit", "listed_at")


def offered(site: Site) -> list[dict[str, Any]]:
    """Products on offer and their charging standards (Art. 35): free of charge, or the price
    in force and what it is per."""
    with site.store.read() as session:
        return [{k: v for k, v in p.as_dict().items() if k in _OFFERED_FIELDS}
                for p in commerce_products.offered(session)]


_annual: dict[tuple[str, int], tuple[float, dict[str, Any]]] = {}


def annual_report(site: Site, year: int) -> dict[str, Any]:
    """The public part of a year's operation report (computed at most every
    :data:`DISCLOSURE_SECONDS`): see :func:`reporting.annual.public`."""
    key = (str(getattr(site, "root", id(site))), year)
    with _disclosed_lock:
        kept = _annual.get(key)
        if kept and time.monotonic() - kept[0] < DISCLOSURE_SECONDS:
            return kept[1]
    with site.store.read() as session:
        made = annual.public(annual.annual(session, site.policy, year))
    with _disclosed_lock:
        _annual[key] = (time.monotonic(), made)
    return made


def operators(site: Site) -> list[dict[str, Any]]:
    """The public notice of operating organizations (Art. 20): those in their notice period,
    and those qualified."""
    with site.store.read() as session:
        return [NoticedOperator.of(q.public()) for q in qualification.noticed(session)]
