"""Qualification of operating organizations in the console: a merchant applies for its
organization, administrators review into public notice or reject, and the public notice page
lists the organizations in notice and qualified (:mod:`service.web.public_pages`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from accounts.errors import AccountError
from accounts.qualification import CONDITIONS, OPEN, STATES
from actions import qualification as qualification_actions
from policies import Forbidden
from policies.permissions import Action, allowed
from service.api.params import PathId
from service.web.base import Form, Member, back, context, home_of, member, render
from service.web.i18n import Said

router = APIRouter(include_in_schema=False)
READER = Depends(member(Action.QUALIFICATION_READ))
REFUSALS = (AccountError, Forbidden)


def _page(request: Request, m: Member, status: str | None = None, values: dict | None = None,
          error: str = "", code: int = 200) -> HTMLResponse:
    ctx = context(request, m)
    rows = qualification_actions.search(ctx, status if status in STATES else None)
    can_apply = (allowed(m.actor, Action.QUALIFICATION_APPLY)
                 and not any(q["status"] in (*OPEN, "qualified") for q in rows))
    return render(request, "qualifications.html", m, rows=rows, chosen=status, states=STATES,
                  conditions=CONDITIONS, can_apply=can_apply, values=values or {},
                  can_review=allowed(m.actor, Action.QUALIFICATION_REVIEW), error=error,
                  notice_days=home_of(request).policy.applications.qualification_notice_days,
                  status=code)


@router.get("/qualifications", response_class=HTMLResponse)
def qualification_list(request: Request, m: Annotated[Member, READER],
                       status: str | None = None) -> HTMLResponse:
    return _page(request, m, status)


@router.post("/qualifications", response_model=None)
def qualification_apply(request: Request,
                        m: Annotated[Member, Depends(member(Action.QUALIFICATION_APPLY))],
                        form: Form) -> Response:
    values = {k: str(form.get(k, "")) for k in ("credit_code", "legal_representative",
                                                 "security_officer", *CONDITIONS)}
    try:
        qualification_actions.apply(context(request, m), values["credit_code"],
                                    values["legal_representative"], values["security_officer"],
                                    {c: values[c] for c in CONDITIONS})
    except REFUSALS as exc:
        return _page(request, m, values=values, error=Said(exc), code=422)
    return back("/qualifications", "qualification_submitted")


@router.post("/qualifications/{qualification_id}/review", response_model=None)
def qualification_review(request: Request, qualification_id: PathId,
                         m: Annotated[Member, Depends(member(Action.QUALIFICATION_REVIEW))],
                         form: Form) -> Response:
    try:
        qualification_actions.review(context(request, m), qualification_id,
                                     form.get("decision") == "approve",
                                     str(form.get("comment", "")))
    except REFUSALS as exc:
        return _page(request, m, error=Said(exc), code=422)
    return back("/qualifications", "qualification_reviewed")

