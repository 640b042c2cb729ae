"""/api/v1/public: the catalog, simulated previews and disclosures, read without a token
(Measures Art. 11, 35), each client address within the policy's rate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from actions import public
from service.limits import admit_public

router = APIRouter(tags=["public"], dependencies=[Depends(admit_public)])


def _home(request: Request) -> Any:
    return request.app.state.home


@router.get("/public/catalog")
def public_catalog(request: Request,
                   q: Annotated[str, Query(max_length=200)] = "",
                   domain: Annotated[str, Query(max_length=63)] = "") -> list[dict[str, Any]]:
    """The catalog's entries: metadata, never rows or file hashes."""
    return public.catalog(_home(request), q or None, domain or None)


@router.get("/public/catalog/{name}")
def public_dataset(request: Request, name: str) -> dict[str, Any]:
    """One entry with its columns (names, types, Chinese field names)."""
    return public.dataset(_home(request), name)


@router.get("/public/catalog/{name}/preview")
def public_preview(request: Request, name: str,
                   rows: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
    """Simulated rows of a dataset (labelled; never real records), for levels the policy
    publishes."""
    shown = public.preview(_home(request), name, rows)
    if shown is None:
        raise HTTPException(403, "the simulated preview of a dataset at this level is shown to "
                                 "signed-in users only")
    return shown


@router.get("/public/disclosure")
def public_disclosure(request: Request,
                      year: Annotated[int, Query(ge=2000, le=9999)]) -> dict[str, Any]:
    """A year's disclosure: grants, released products, review timeliness, supply and use."""
    return public.disclosed(_home(request), year)


@router.get("/public/products")
def public_products(request: Request) -> list[dict[str, Any]]:
    """Products on offer and their charging standards: free of charge, or the approved price
    (hundredths of the policy's currency) and what it is per."""
    return public.offered(_home(request))


@router.get("/public/annual")
def public_annual(request: Request,
                  year: Annotated[int, Query(ge=2000, le=9999)]) -> dict[str, Any]:
    """The public part of a year's operation report: counts of the operation, changes of
    charging standards, use of datasets and review timeliness."""
    return public.annual_report(_home(request), year)


@router.get("/public/operators")
def public_operators(request: Request) -> list[dict[str, Any]]:
    """The public notice of operating organizations (Art. 20): those in their notice period,
    with its last day, and those qualified."""
    return public.operators(_home(request))
