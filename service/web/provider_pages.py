"""Providers: register datasets, confirm or override the PII scan's suggestions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse, Response

from actions import catalog as catalog_actions
from anonymize import ENTITIES
from catalog import datasets
from catalog.datasets import ATTRIBUTES, FREQUENCIES
from catalog.errors import InvalidInput
from policies import LEVELS
from policies.errors import DomainError
from policies.permissions import Action
from service.uploads import parse_field_names, register_upload
from service.web.base import Form, Member, back, context, home_of, member, render
from service.web.i18n import Said

router = APIRouter(include_in_schema=False)


@router.get("/provider", response_class=HTMLResponse)
def provider_home(request: Request,
                  m: Annotated[Member, Depends(member(Action.DATASET_REGISTER))]) -> HTMLResponse:
    rows = catalog_actions.provided(context(request, m))
    return render(request, "provider.html", m, rows=rows)


def _register_form(request: Request, m: Member, values: dict[str, str], error: str = "",
                   status: int = 200) -> HTMLResponse:
    home = home_of(request)
    template = "register_form.html" if request.headers.get("hx-request") == "true" \
        else "register.html"
    return render(request, template, m, values=values, error=error, levels=LEVELS,
                  attributes=ATTRIBUTES, frequencies=FREQUENCIES,
                  limit=home.policy.max_upload_bytes, status=status)


@router.get("/provider/register", response_class=HTMLResponse)
def register_page(request: Request,
                  m: Annotated[Member, Depends(member(Action.DATASET_REGISTER))]) -> HTMLResponse:
    return _register_form(request, m, {"level": "L2", "attribute": "conditional"})


@router.post("/provider/register", response_model=None)
def register_submit(request: Request, background: BackgroundTasks,
                    m: Annotated[Member, Depends(member(Action.DATASET_REGISTER))],
                    form: Form) -> Response:
    values = {k: str(form.get(k, "")) for k in ("name", "title", "domain", "level", "attribute",
                                                 "description", "department", "update_frequency",
                                                 "field_names")}
    upload = form.get("file")
    try:
        if upload is None or isinstance(upload, str):
            raise InvalidInput("choose a Parquet or CSV file to upload")
        name = register_upload(context(request, m, background), upload.file, upload.filename,
                               datasets.Registration(
                                   values["name"], values["title"], values["domain"],
                                   values["level"], values["attribute"], values["description"],
                                   values["department"],
                                   values["update_frequency"] or "irregular",
                                   parse_field_names(values["field_names"])))["name"]
    except DomainError as exc:
        return _register_form(request, m, values, Said(exc), status=422)
    target = f"/provider/datasets/{name}?done=registered"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": target})
    return back(target.split("?")[0], "registered")


@router.get("/provider/datasets/{name}", response_class=HTMLResponse)
def classification_page(request: Request, name: str,
                        m: Annotated[Member, Depends(member(Action.DATASET_CLASSIFY))]) -> HTMLResponse:
    d = catalog_actions.show_provided(context(request, m), name)
    return render(request, "classify.html", m, d=d, entities=sorted(ENTITIES), levels=LEVELS)


@router.post("/provider/datasets/{name}", response_model=None)
def classification_submit(request: Request, name: str,
                          m: Annotated[Member, Depends(member(Action.DATASET_CLASSIFY))],
                          form: Form) -> Response:
    ctx = context(request, m)
    columns = catalog_actions.columns(ctx, name)
    entities = {c: (str(form.get(f"entity:{c}")) or None) for c in columns
                if f"entity:{c}" in form}
    qi = [c for c in columns if form.get(f"qi:{c}") == "on"]
    confidential = [c for c in columns if form.get(f"confidential:{c}") == "on"]
    labels = {c: str(form.get(f"field:{c}", "")) for c in columns if f"field:{c}" in form}
    catalog_actions.classify(ctx, name, catalog_actions.Classification(
        entities, qi, confidential, str(form.get("level") or "") or None,
        field_names=labels or None))
    return back(f"/provider/datasets/{name}", "classified")
