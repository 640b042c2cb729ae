"""Appeals, complaints and security incidents in the console: users open them, administrators
respond and resolve them, the regulator reads them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from actions import cases as case_actions
from cases.errors import CaseError
from cases.states import SEVERITIES, CaseKind
from catalog.errors import CatalogError
from policies.lifecycle import MoveRefused
from policies.permissions import Action, allowed
from service.api.params import PathId
from service.web.base import Form, Member, back, context, member, render
from service.web.i18n import Said

router = APIRouter(include_in_schema=False)


@router.get("/cases", response_class=HTMLResponse)
def case_list(request: Request, m: Annotated[Member, Depends(member(Action.CASE_READ))],
              status: str = "") -> HTMLResponse:
    rows = case_actions.search(context(request, m), status or None)
    return render(request, "case_list.html", m, rows=rows, chosen=status,
                  can_open=allowed(m.actor, Action.CASE_OPEN))


def _form(request: Request, m: Member, values: dict[str, Any], error: str = "",
          status: int = 200) -> HTMLResponse:
    kinds = [k.value for k in CaseKind if k != CaseKind.APPEAL or m.actor.role == "merchant"]
    return render(request, "case_new.html", m, values=values, kinds=kinds,
                  severities=SEVERITIES, error=error, status=status)


@router.get("/cases/new", response_class=HTMLResponse)
def case_new(request: Request, m: Annotated[Member, Depends(member(Action.CASE_OPEN))],
             kind: str = "complaint", subject: str = "") -> HTMLResponse:
    return _form(request, m, {"kind": kind[:20], "subject": subject[:100]})


@router.post("/cases", response_model=None)
def case_open(request: Request, m: Annotated[Member, Depends(member(Action.CASE_OPEN))],
              form: Form) -> Response:
    values = {k: str(form.get(k, "")) for k in ("kind", "title", "description", "subject",
                                                 "severity")}
    try:
        made = case_actions.open_case(context(request, m), values["kind"], values["title"],
                                      values["description"], values["subject"],
                                      values["severity"] if values["kind"] == "incident" else "")
    except (CaseError, CatalogError) as exc:
        return _form(request, m, values, Said(exc), 422)
    return back(f"/cases/{made['id']}", "case_opened")


def _case(request: Request, case_id: int, m: Member, error: str = "", text: str = "",
          status: int = 200) -> HTMLResponse:
    case = case_actions.show(context(request, m), case_id)
    return render(request, "case.html", m, c=case, error=error, text=text,
                  can_handle=allowed(m.actor, Action.CASE_HANDLE)
                  and case["status"] in ("open", "in_progress"), status=status)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: PathId,
              m: Annotated[Member, Depends(member(Action.CASE_READ))]) -> HTMLResponse:
    return _case(request, case_id, m)


@router.post("/cases/{case_id}/handle", response_model=None)
def case_handle(request: Request, case_id: PathId,
                m: Annotated[Member, Depends(member(Action.CASE_HANDLE))],
                form: Form) -> Response:
    text, step = str(form.get("text", "")), str(form.get("step", ""))
    try:
        if step == "respond":
            case_actions.respond(context(request, m), case_id, text)
        else:
            case_actions.resolve(context(request, m), case_id, step, text)
    except (CaseError, CatalogError, MoveRefused) as exc:
        return _case(request, case_id, m, Said(exc), text, 422)
    return back(f"/cases/{case_id}", "case_handled")
