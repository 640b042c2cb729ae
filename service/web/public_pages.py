"""Pages anyone may read without signing in (Measures Art. 11, 35): the catalog with its
simulated previews, and the disclosures of grants and released products. The policy's
``[web] public_pages`` turns them off; each client address may read a bounded number a
minute."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from actions import public
from service.limits import admit_public
from service.web.base import home_of, member_or_none, render

router = APIRouter(include_in_schema=False)
PREVIEW_ROWS = 20


Open = Annotated[None, Depends(admit_public)]


def _render(request: Request, name: str, **context: Any) -> HTMLResponse:
    # A signed-in user keeps the header's menu; the page itself is the same for everyone.
    return render(request, name, member_or_none(request), **context)


def _years(home: Any, year: int | None) -> tuple[list[int], int]:
    """The years the ledger has disclosures for (this year when none), and ``year`` if it is
    one of them, else the newest."""
    years = public.disclosure_years(home) or [dt.datetime.now(dt.UTC).year]
    return years, year if year in years else years[0]


@router.get("/public", response_model=None)
def public_index(request: Request, _: Open) -> RedirectResponse:
    return RedirectResponse("/public/catalog", status_code=303)


@router.get("/public/catalog", response_class=HTMLResponse)
def public_catalog(request: Request, _: Open, q: str = "", domain: str = "") -> HTMLResponse:
    home = home_of(request)
    found = public.catalog(home, q[:200] or None, domain[:63] or None)
    return _render(request, "public_catalog.html", found=found, q=q[:200], domain=domain[:63],
                   domains=sorted({d["domain"] for d in public.catalog(home)}))


@router.get("/public/catalog/{name}", response_class=HTMLResponse)
def public_dataset(request: Request, name: str, _: Open) -> HTMLResponse:
    home = home_of(request)
    entry = public.dataset(home, name)
    return _render(request, "public_dataset.html", d=entry,
                   preview=public.preview(home, name, PREVIEW_ROWS))


@router.get("/public/disclosure", response_class=HTMLResponse)
def public_disclosure(request: Request, _: Open, year: int | None = None) -> HTMLResponse:
    home = home_of(request)
    years, chosen = _years(home, year)
    return _render(request, "public_disclosure.html", r=public.disclosed(home, chosen),
                   years=years, year=chosen)


@router.get("/public/products", response_class=HTMLResponse)
def public_products(request: Request, _: Open) -> HTMLResponse:
    home = home_of(request)
    return _render(request, "public_products.html", rows=public.offered(home),
                   currency=home.policy.commerce.currency)


@router.get("/public/annual", response_class=HTMLResponse)
def public_annual(request: Request, _: Open, year: int | None = None) -> HTMLResponse:
    home = home_of(request)
    years, chosen = _years(home, year)
    return _render(request, "public_annual.html", r=public.annual_report(home, chosen),
                   years=years, year=chosen)


@router.get("/public/operators", response_class=HTMLResponse)
def public_operators(request: Request, _: Open) -> HTMLResponse:
    """The public notice of operating organizations (Art. 20)."""
    return _render(request, "public_operators.html", rows=public.operators(home_of(request)))
