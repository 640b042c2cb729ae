"""The merchant's workspace: grants, the SQL editor, jobs on simulated and real data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from catalog import applications
from egress import requesting as egress_requests
from policies import Role
from policies.errors import DomainError
from sandbox import jobs, visibility
from service.api.params import PathId
from service.web.base import PEOPLE, Form, Member, back, home_of, member, render

router = APIRouter(include_in_schema=False)
FINAL = ("succeeded", "failed", "cancelled", "timed_out")


@router.get("/workspace", response_class=HTMLResponse)
def workspace_list(request: Request,
                   m: Annotated[Member, Depends(member(Role.MERCHANT))]) -> HTMLResponse:
    home = home_of(request)
    with home.store.read() as session:
        grants = [jobs.grant_view(home.policy, g)
                  for g in applications.list_grants(session, m.actor)]
    return render(request, "workspace_list.html", m, grants=grants)


def _workspace(request: Request, m: Member, grant_id: int, sql: str = "", output: str = "",
               error: str = "", status: int = 200) -> HTMLResponse:
    home = home_of(request)
    with home.store.read() as session:
        grant = applications.get_grant(session, m.actor, grant_id)
        view = jobs.grant_view(home.policy, grant)
        history = [visibility.shown(home.policy, j, m.actor)
                   for j in jobs.list_jobs(session, m.actor, grant_id)]
    outputs = {}
    for j in history:
        if j["status"] == "succeeded":
            outputs.setdefault(j["output_name"], set()).add(j["target"])
    history.sort(key=lambda j: j["id"], reverse=True)
    return render(request, "workspace.html", m, g=view, history=history,
                  outputs={k: sorted(v) for k, v in sorted(outputs.items())},
                  sql=sql, output=output, error=error, status=status)


@router.get("/workspace/{grant_id}", response_class=HTMLResponse)
def workspace_page(request: Request, grant_id: PathId,
                   m: Annotated[Member, Depends(member(Role.MERCHANT))],
                   sql: str = "", output: str = "") -> HTMLResponse:
    return _workspace(request, m, grant_id, sql[:100_000], output[:63])


@router.post("/workspace/{grant_id}/jobs", response_model=None)
def job_submit(request: Request, grant_id: PathId,
               m: Annotated[Member, Depends(member(Role.MERCHANT))], form: Form) -> Response:
    sql, output = str(form.get("sql", "")), str(form.get("output_name", "")).strip()
    target = "simulated" if form.get("target") == "simulated" else "real"
    home = home_of(request)
    htmx = request.headers.get("hx-request") == "true"
    try:
        with home.store.transaction() as session:
            job = jobs.submit(session, m.actor, home.policy, home.data, grant_id, sql, output,
                              target)
            job_id, data = job.id, visibility.shown(home.policy, job, m.actor)
    except DomainError as exc:
        if htmx:
            return render(request, "form_error.html", m, message=exc.message, status=422)
        return _workspace(request, m, grant_id, sql, output, exc.message, status=422)
    pool = getattr(request.app.state, "pool", None)
    if pool is not None:
        pool.wake()
    if htmx:
        return render(request, "job_status.html", m, j=data | {"result": None}, final=FINAL,
                      requests=[])
    return back(f"/jobs/{job_id}")


def _job(request: Request, m: Member, job_id: int) -> tuple[dict, list[dict]]:
    home = home_of(request)
    with home.store.read() as session:
        job = jobs.get(session, m.actor, job_id)
        data = jobs.view(home.data, home.policy, job, m.actor)
        linked = [egress_requests.view(r, m.actor)
                  for r in egress_requests.list_requests(session, m.actor)
                  if r.job_id == job_id]
    return data, linked


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: PathId,
             m: Annotated[Member, Depends(member(*PEOPLE))]) -> HTMLResponse:
    data, linked = _job(request, m, job_id)
    return render(request, "job.html", m, j=data, final=FINAL, requests=linked)


@router.get("/jobs/{job_id}/status", response_class=HTMLResponse)
def job_status(request: Request, job_id: PathId,
               m: Annotated[Member, Depends(member(*PEOPLE))]) -> HTMLResponse:
    """The job's status part; it polls itself until the job ends."""
    data, linked = _job(request, m, job_id)
    return render(request, "job_status.html", m, j=data, final=FINAL, requests=linked)


@router.post("/jobs/{job_id}/cancel", response_model=None)
def job_cancel(request: Request, job_id: PathId,
               m: Annotated[Member, Depends(member(Role.MERCHANT, Role.ADMIN))]) -> Response:
    home = home_of(request)
    with home.store.transaction() as session:
        jobs.cancel(session, m.actor, job_id)
    return back(f"/jobs/{job_id}", "cancelled")
