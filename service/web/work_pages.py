"""The merchant's workspace: grants, the SQL editor, jobs on simulated and real data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from actions import applications as application_actions
from actions import egress as egress_actions
from actions import jobs as job_actions
from actions import own_data as own_actions
from policies.errors import DomainError
from policies.permissions import Action
from sandbox.states import ACTIVE_STATES, FINAL_STATES
from service.api.params import PathId
from service.web.base import Form, Member, back, context, member, render
from service.web.i18n import Said

router = APIRouter(include_in_schema=False)


@router.get("/workspace", response_class=HTMLResponse)
def workspace_list(request: Request,
                   m: Annotated[Member, Depends(member(Action.GRANT_USE))]) -> HTMLResponse:
    grants = application_actions.grants(context(request, m))
    return render(request, "workspace_list.html", m, grants=grants)


def _history(request: Request, m: Member, grant_id: int) -> tuple[list[dict], dict]:
    """The grant's jobs, newest first, and its outputs later jobs may read (name: targets)."""
    history = job_actions.search(context(request, m), grant_id)
    outputs: dict[str, set[str]] = {}
    for j in history:
        if j["status"] == "succeeded":
            outputs.setdefault(j["output_name"], set()).add(j["target"])
    history.sort(key=lambda j: j["id"], reverse=True)
    return history, {k: sorted(v) for k, v in sorted(outputs.items())}


def workspace_view(request: Request, m: Member, grant_id: int, sql: str = "", output: str = "",
                   error: str = "", status: int = 200, dp_error: str = "",
                   dp_form: dict[str, str] | None = None, own_error: str = "",
                   own_form: dict[str, str] | None = None) -> HTMLResponse:
    """The workspace page: the SQL editor, the merchant's own tables, the DP form with the
    grant's privacy budget, and the job history (``error``, ``dp_error``, ``own_error``: why
    the last form was refused)."""
    ctx = context(request, m)
    view = application_actions.grant(ctx, grant_id)
    if view["agreement"]["awaiting"]:
        text = application_actions.agreement(ctx, grant_id)["text"]
        return render(request, "workspace.html", m, g=view, agreement_text=text, status=status)
    history, outputs = _history(request, m, grant_id)
    return render(request, "workspace.html", m, g=view, history=history, outputs=outputs,
                  active=ACTIVE_STATES, sql=sql, output=output, error=error, status=status,
                  budget=job_actions.privacy_budget(ctx, grant_id), dp_error=dp_error,
                  dp=dp_form or {"count": "1", "epsilon": "0.5", "contributions": "1"},
                  own=[o for o in own_actions.listing(ctx, grant_id) if o["status"] == "active"],
                  own_error=own_error, own_form=own_form or {},
                  own_limit=ctx.policy.own_data.max_bytes)


@router.post("/workspace/{grant_id}/agreement", response_model=None)
def agreement_accept(request: Request, grant_id: PathId,
                     m: Annotated[Member, Depends(member(Action.GRANT_USE))]) -> Response:
    application_actions.accept_agreement(context(request, m), grant_id)
    return back(f"/workspace/{grant_id}", "agreement_accepted")


@router.get("/workspace/{grant_id}/history", response_class=HTMLResponse)
def workspace_history(request: Request, grant_id: PathId,
                      m: Annotated[Member, Depends(member(Action.GRANT_USE))]) -> HTMLResponse:
    """The job history part; it polls itself while a job is queued or running."""
    application_actions.grant(context(request, m), grant_id)  # the member's own grant
    history, outputs = _history(request, m, grant_id)
    return render(request, "workspace_history.html", m, g={"id": grant_id}, history=history,
                  outputs=outputs, active=ACTIVE_STATES, htmx_outputs=True)


@router.get("/workspace/{grant_id}", response_class=HTMLResponse)
def workspace_page(request: Request, grant_id: PathId,
                   m: Annotated[Member, Depends(member(Action.GRANT_USE))],
                   sql: str = "", output: str = "") -> HTMLResponse:
    return workspace_view(request, m, grant_id, sql[:100_000], output[:63])


@router.post("/workspace/{grant_id}/jobs", response_model=None)
def job_submit(request: Request, grant_id: PathId,
               m: Annotated[Member, Depends(member(Action.JOB_SUBMIT))], form: Form) -> Response:
    sql, output = str(form.get("sql", "")), str(form.get("output_name", "")).strip()
    target = "simulated" if form.get("target") == "simulated" else "real"
    htmx = request.headers.get("hx-request") == "true"
    try:
        data = job_actions.submit(context(request, m), grant_id, sql, output, target)
    except DomainError as exc:
        if htmx:
            return render(request, "form_error.html", m, message=Said(exc), status=422)
        return workspace_view(request, m, grant_id, sql, output, Said(exc), status=422)
    if htmx:
        answer = render(request, "job_status.html", m, j=data | {"result": None}, final=FINAL_STATES,
                        requests=[])
        answer.headers["HX-Trigger"] = "job-submitted"  # the history part refreshes itself
        return answer
    return back(f"/jobs/{data['id']}")


@router.post("/jobs/{job_id}/keep", response_model=None)
def job_keep(request: Request, job_id: PathId,
             m: Annotated[Member, Depends(member(Action.JOB_SUBMIT))], form: Form) -> Response:
    name = str(form.get("output_name", "")).strip()
    try:
        job_actions.keep(context(request, m), job_id, name)
    except DomainError as exc:
        data, linked = _job(request, m, job_id)
        return render(request, "job.html", m, j=data, final=FINAL_STATES, requests=linked,
                      keep_error=Said(exc), keep_name=name[:63], status=422)
    return back(f"/jobs/{job_id}", "kept")


def _job(request: Request, m: Member, job_id: int) -> tuple[dict, list[dict]]:
    ctx = context(request, m)
    data = job_actions.show(ctx, job_id)
    linked = [r for r in egress_actions.search(ctx) if r["job_id"] == job_id]
    return data, linked


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: PathId,
             m: Annotated[Member, Depends(member(Action.JOB_READ))]) -> HTMLResponse:
    data, linked = _job(request, m, job_id)
    return render(request, "job.html", m, j=data, final=FINAL_STATES, requests=linked)


@router.get("/jobs/{job_id}/status", response_class=HTMLResponse)
def job_status(request: Request, job_id: PathId,
               m: Annotated[Member, Depends(member(Action.JOB_READ))]) -> HTMLResponse:
    """The job's status part; it polls itself until the job ends."""
    data, linked = _job(request, m, job_id)
    return render(request, "job_status.html", m, j=data, final=FINAL_STATES, requests=linked)


@router.post("/jobs/{job_id}/cancel", response_model=None)
def job_cancel(request: Request, job_id: PathId,
               m: Annotated[Member, Depends(member(Action.JOB_CANCEL))]) -> Response:
    job_actions.cancel(context(request, m), job_id)
    return back(f"/jobs/{job_id}", "cancelled")
