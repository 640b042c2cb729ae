"""Consent records in the console: a providing department uses a dataset with its subjects'
consent, uploads consent files and withdraws consents; administrators and the regulator read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from actions import consent as consent_actions
from catalog.consent import STATUSES
from catalog.errors import CatalogError, InvalidInput
from policies.permissions import Action, allowed
from service.uploads import consent_upload
from service.web.base import Form, Member, back, context, member, render
from service.web.i18n import Said

router = APIRouter(include_in_schema=False)
READER = Depends(member(Action.CONSENT_READ))
MANAGER = Depends(member(Action.CONSENT_MANAGE))
PAGE = 50


def _page(request: Request, m: Member, name: str, status: str | None = None,
          before: int | None = None, error: str = "", code: int = 200) -> HTMLResponse:
    ctx = context(request, m)
    summary = consent_actions.summary(ctx, name)
    rows = consent_actions.search(ctx, name, status if status in STATUSES else None, PAGE,
                                  before)
    return render(request, "consent.html", m, s=summary, rows=rows, chosen=status,
                  statuses=STATUSES, more=rows[-1]["id"] if len(rows) == PAGE else None,
                  can_manage=allowed(m.actor, Action.CONSENT_MANAGE), error=error,
                  status=code)


@router.get("/provider/datasets/{name}/consent", response_class=HTMLResponse)
def consent_page(request: Request, name: str, m: Annotated[Member, READER],
                 status: str | None = None, before: int | None = None) -> HTMLResponse:
    return _page(request, m, name, status, before)


@router.post("/provider/datasets/{name}/consent/required", response_model=None)
def consent_required(request: Request, name: str, m: Annotated[Member, MANAGER],
                     form: Form) -> Response:
    try:
        consent_actions.require(context(request, m), name, form.get("required") == "on")
    except CatalogError as exc:
        return _page(request, m, name, error=Said(exc), code=422)
    return back(f"/provider/datasets/{name}/consent", "consent_changed")


@router.post("/provider/datasets/{name}/consent/file", response_model=None)
def consent_file(request: Request, name: str, m: Annotated[Member, MANAGER],
                 form: Form) -> Response:
    upload = form.get("file")
    try:
        if upload is None or isinstance(upload, str):
            raise InvalidInput("choose a Parquet or CSV file to upload")
        consent_upload(context(request, m), name, upload.file, upload.filename)
    except CatalogError as exc:
        return _page(request, m, name, error=Said(exc), code=422)
    return back(f"/provider/datasets/{name}/consent", "consents_recorded")


@router.post("/provider/datasets/{name}/consent/withdrawal", response_model=None)
def consent_withdraw(request: Request, name: str, m: Annotated[Member, MANAGER],
                     form: Form) -> Response:
    subjects = [line.strip() for line in str(form.get("subjects", "")).splitlines()
                if line.strip()]
    ids = [int(v) for v in str(form.get("ids", "")).replace(",", " ").split()
           if v.isdigit() and len(v) < 10]
    try:
        consent_actions.withdraw(context(request, m), name, subjects, ids)
    except CatalogError as exc:
        return _page(request, m, name, error=Said(exc), code=422)
    return back(f"/provider/datasets/{name}/consent", "consents_withdrawn")
