"""Data-quality issues in the console: merchants report them from a dataset, providing
departments answer and fix them, everyone follows what concerns them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from actions import catalog as catalog_actions
from actions import quality as quality_actions
from catalog.errors import Conflict, InvalidInput
from catalog.quality import KINDS
from policies.lifecycle import MoveRefused
from policies.permissions import Action, allowed
from service.api.params import PathId
from service.web.base import Form, Member, back, context, member, render
from service.web.i18n import Said

router = APIRouter(include_in_schema=False)


@router.get("/quality", response_class=HTMLResponse)
def quality_list(request: Request, m: Annotated[Member, Depends(member(Action.QUALITY_READ))],
                 status: str = "", dataset: str = "") -> HTMLResponse:
    rows = quality_actions.search(context(request, m), status or None, dataset or None)
    return render(request, "quality_list.html", m, rows=rows, chosen=status, dataset=dataset,
                  can_report=allowed(m.actor, Action.QUALITY_REPORT))


def _form(request: Request, m: Member, values: dict[str, Any], error: str = "",
          status: int = 200) -> HTMLResponse:
    ctx = context(request, m)
    found = catalog_actions.search(ctx)
    chosen = values.get("dataset") or ""
    columns = catalog_actions.columns(ctx, chosen) if chosen in {d["name"] for d in found} \
        else []
    return render(request, "quality_new.html", m, datasets=found, columns=columns,
                  values=values, kinds=KINDS, error=error, status=status)


@router.get("/quality/new", response_class=HTMLResponse)
def quality_new(request: Request, m: Annotated[Member, Depends(member(Action.QUALITY_REPORT))],
                dataset: str = "") -> HTMLResponse:
    return _form(request, m, {"dataset": dataset[:63], "columns": []})


@router.post("/quality", response_model=None)
def quality_report(request: Request,
                   m: Annotated[Member, Depends(member(Action.QUALITY_REPORT))],
                   form: Form) -> Response:
    values = {"dataset": str(form.get("dataset", "")), "kind": str(form.get("kind", "")),
              "description": str(form.get("description", "")),
              "columns": [str(c) for c in form.getlist("columns")]}
    try:
        made = quality_actions.report(context(request, m), values["dataset"], values["kind"],
                                      values["columns"], values["description"])
    except InvalidInput as exc:
        return _form(request, m, values, Said(exc), 422)
    return back(f"/quality/{made['id']}", "quality_reported")


def _issue(request: Request, issue_id: int, m: Member, error: str = "", reply: str = "",
           status: int = 200) -> HTMLResponse:
    ctx = context(request, m)
    issue = quality_actions.show(ctx, issue_id)
    answering = allowed(m.actor, Action.QUALITY_ANSWER) and issue["status"] in (
        "open", "acknowledged")
    versions = []
    if answering:
        shown = catalog_actions.show(ctx, issue["dataset"])
        versions = [v["version"] for v in shown.get("versions") or []
                    if v["version"] > issue["version"]]
    return render(request, "quality_issue.html", m, i=issue, error=error, reply=reply,
                  can_answer=answering, versions=versions, status=status)


@router.get("/quality/{issue_id}", response_class=HTMLResponse)
def quality_page(request: Request, issue_id: PathId,
                 m: Annotated[Member, Depends(member(Action.QUALITY_READ))]) -> HTMLResponse:
    return _issue(request, issue_id, m)


@router.post("/quality/{issue_id}/answer", response_model=None)
def quality_answer(request: Request, issue_id: PathId,
                   m: Annotated[Member, Depends(member(Action.QUALITY_ANSWER))],
                   form: Form) -> Response:
    reply = str(form.get("reply", ""))
    try:
        if form.get("decision") == "fix":
            version = str(form.get("version", ""))
            if not version.isdigit():
                raise InvalidInput("choose the version that fixes the issue")
            quality_actions.fix(context(request, m), issue_id, int(version), reply)
        else:
            quality_actions.answer(context(request, m), issue_id, str(form.get("decision", "")),
                                   reply)
    except (InvalidInput, Conflict, MoveRefused) as exc:
        return _issue(request, issue_id, m, Said(exc), reply, 422)
    return back(f"/quality/{issue_id}", "quality_answered")
