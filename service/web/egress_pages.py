"""Egress: merchants request, answer returns and withdraw; reviewers vote; releases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from catalog import applications
from egress import requesting as egress_requests
from egress import review as egress_review
from egress.bundle import verify_bundle, zipped
from egress.checks import CHECK_NAMES
from egress.mitigate import MITIGATIONS
from policies import Role
from policies.errors import DomainError
from sandbox import jobs, visibility
from service.api.params import MAX_ID, PathId, parse_id
from service.web.base import PEOPLE, Form, Member, back, error_page, home_of, member, render

router = APIRouter(include_in_schema=False)
# Flagged cells shown per request: the map names rules, never the output's values.
CELL_ROWS = 100


@router.get("/egress", response_class=HTMLResponse)
def egress_list(request: Request, m: Annotated[Member, Depends(member(*PEOPLE))],
                status: str = "") -> HTMLResponse:
    home = home_of(request)
    with home.store.read() as session:
        rows = [egress_requests.view(r, m.actor)
                for r in egress_requests.list_requests(session, m.actor, status or None)]
    rows.sort(key=lambda r: r["id"], reverse=True)
    return render(request, "egress_list.html", m, rows=rows, chosen_status=status)


def _new_form(request: Request, m: Member, job_id: int, values: dict[str, Any],
              error: str = "", status: int = 200) -> HTMLResponse:
    home = home_of(request)
    with home.store.read() as session:
        job = jobs.get(session, m.actor, job_id)
        data = visibility.shown(home.policy, job, m.actor)
        grant = jobs.grant_view(home.policy, applications.get_grant(session, m.actor,
                                                                    job.grant_id))
    sources = sorted(n for n, s in (data["sources"] or {}).items() if s.get("kind") == "dataset")
    return render(request, "egress_new.html", m, j=data, g=grant, sources=sources,
                  values=values, error=error, checks=CHECK_NAMES, mitigations=MITIGATIONS,
                  status=status)


@router.get("/egress/new", response_class=HTMLResponse)
def egress_new(request: Request, job: Annotated[int, Query(ge=1, le=MAX_ID)],
               m: Annotated[Member, Depends(member(Role.MERCHANT))]) -> HTMLResponse:
    return _new_form(request, m, job, {})


def _exceptions(form: Any) -> dict[str, str]:
    return {name: str(form.get(f"justify:{name}", "")).strip() for name in CHECK_NAMES
            if str(form.get(f"justify:{name}", "")).strip()}


@router.post("/egress", response_model=None)
def egress_submit(request: Request,
                  m: Annotated[Member, Depends(member(Role.MERCHANT))], form: Form) -> Response:
    values = {k: str(form.get(k, "")) for k in ("job_id", "product", "purpose", "mitigation")}
    sources = [str(s) for s in form.getlist("sources")]
    job_id = parse_id(values["job_id"])
    if job_id is None:
        return error_page(request, 422, "the form names no job", m)
    home = home_of(request)
    try:
        with home.store.transaction() as session:
            req = egress_requests.request(
                session, m.actor, home.policy, home.data, home.pseudonym_secret, job_id,
                values["product"], values["purpose"], sources, form.get("abroad") == "on",
                _exceptions(form), values["mitigation"] or "none", form.get("draft") == "on")
            request_id = req.id
    except DomainError as exc:
        values["sources"] = sources
        return _new_form(request, m, job_id, values, exc.message, status=422)
    return back(f"/egress/{request_id}", "requested")


def _cell_map(checks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Flagged cells of the disclosure check by row and column, with their rules (no values)."""
    check = next((c for c in checks or [] if c["name"] == "disclosure"), None)
    flagged = ((check or {}).get("details") or {}).get("flagged") or []
    if not flagged:
        return None
    cells: dict[int, dict[str, list[str]]] = {}
    columns: list[str] = []
    for f in flagged:
        cells.setdefault(f["row"], {}).setdefault(f["column"], []).append(f["rule"])
        if f["column"] not in columns:
            columns.append(f["column"])
    rows = sorted(cells)[:CELL_ROWS]
    return {"columns": columns, "rows": [(r, cells[r]) for r in rows],
            "more": max(len(cells) - CELL_ROWS, 0), "verdict": check["verdict"]}


@router.get("/egress/{request_id}", response_class=HTMLResponse)
def egress_page(request: Request, request_id: PathId,
                m: Annotated[Member, Depends(member(*PEOPLE))]) -> HTMLResponse:
    home = home_of(request)
    with home.store.read() as session:
        req = egress_requests.get(session, m.actor, request_id)
        data = egress_requests.view(req, m.actor)
        try:  # a reviewer reads the job only of a request sent to them (sandbox.jobs.get)
            job = visibility.shown(home.policy, jobs.get(session, m.actor, req.job_id), m.actor)
        except jobs.NotFound:
            job = None
    own = m.actor.role is Role.REVIEWER and m.actor.org == data["org"]
    voted = data.get("my_vote") is not None or any(
        r.get("reviewer_id") == m.actor.id and r["round"] == data["round"]
        for r in data.get("reviews") or [])
    can_vote = (m.actor.role is Role.REVIEWER and not own and not voted
                and data["status"] in ("submitted", "in_review"))
    failing = [c["name"] for c in data["checks"] or [] if c["verdict"] != "pass"]
    return render(request, "egress.html", m, r=data, job=job, cells=_cell_map(data["checks"]),
                  own_org=own, can_vote=can_vote, failing=failing,
                  points=egress_review.REVIEW_POINTS, checks=CHECK_NAMES,
                  mitigations=MITIGATIONS)


@router.post("/egress/{request_id}/resubmit", response_model=None)
def egress_resubmit(request: Request, request_id: PathId,
                    m: Annotated[Member, Depends(member(Role.MERCHANT))], form: Form) -> Response:
    job = parse_id(form.get("job_id"))
    home = home_of(request)
    with home.store.transaction() as session:
        egress_requests.resubmit(session, m.actor, home.policy, home.data,
                                 home.pseudonym_secret, request_id,
                                 job,
                                 _exceptions(form) or None,
                                 str(form.get("mitigation") or "") or None,
                                 str(form.get("comment", "")))
    return back(f"/egress/{request_id}", "resubmitted")


@router.post("/egress/{request_id}/withdraw", response_model=None)
def egress_withdraw(request: Request, request_id: PathId,
                    m: Annotated[Member, Depends(member(Role.MERCHANT))], form: Form) -> Response:
    home = home_of(request)
    with home.store.transaction() as session:
        egress_requests.withdraw(session, m.actor, request_id, str(form.get("reason", "")))
    return back(f"/egress/{request_id}", "withdrawn")


@router.post("/egress/{request_id}/vote", response_model=None)
def egress_vote(request: Request, request_id: PathId,
                m: Annotated[Member, Depends(member(Role.REVIEWER))], form: Form) -> Response:
    checklist = {point: {"answer": str(form.get(f"point:{point}", "")),
                         "comment": str(form.get(f"note:{point}", ""))}
                 for point in egress_review.REVIEW_POINTS if form.get(f"point:{point}")}
    overrides = {name: str(form.get(f"override:{name}", "")).strip() for name in CHECK_NAMES
                 if str(form.get(f"override:{name}", "")).strip()}
    home = home_of(request)
    with home.store.transaction() as session:
        egress_review.vote(session, m.actor, home.policy, home.data, home.signer, request_id,
                           str(form.get("decision", "")), str(form.get("comment", "")),
                           str(form.get("private_comment", "")), checklist, overrides)
    return back(f"/egress/{request_id}", "voted")


@router.get("/releases", response_class=HTMLResponse)
def release_list(request: Request,
                 m: Annotated[Member, Depends(member(*PEOPLE))]) -> HTMLResponse:
    home = home_of(request)
    with home.store.read() as session:
        rows = [r.as_dict() for r in egress_requests.list_releases(session, m.actor)]
        products = {p["product_no"]: p for p in egress_requests.products(session, m.actor)}
    return render(request, "releases.html", m, rows=rows, products=products)


@router.get("/releases/{release_id}", response_class=HTMLResponse)
def release_page(request: Request, release_id: PathId,
                 m: Annotated[Member, Depends(member(*PEOPLE))]) -> HTMLResponse:
    """The release and the verification of its bundle: signature, file hashes, ledger proof."""
    home = home_of(request)
    with home.store.read() as session:
        release = next((r for r in egress_requests.list_releases(session, m.actor)
                        if r.id == release_id), None)
        if release is None:
            return error_page(request, 404, f"no release {release_id}", m)
        data = release.as_dict()
    check = verify_bundle(home.data.fetch(data["path"]))
    check["platform_key"] = check.get("key_id") == home.signer.key_id
    return render(request, "release.html", m, rel=data, check=check)


@router.get("/releases/{release_id}/download")
def release_download(request: Request, release_id: PathId,
                     m: Annotated[Member, Depends(member(Role.MERCHANT))]) -> StreamingResponse:
    home = home_of(request)
    with home.store.transaction() as session:
        directory = egress_requests.download(session, m.actor, home.data, release_id)
    return StreamingResponse(zipped(directory), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{directory.name}.zip"'})



@router.get("/review", response_class=HTMLResponse)
def review_queues(request: Request,
                  m: Annotated[Member, Depends(member(Role.REVIEWER))]) -> HTMLResponse:
    """Applications and egress requests waiting for the reviewer, oldest deadline first."""
    home = home_of(request)
    with home.store.read() as session:
        apps = [a.as_dict() for a in applications.list_applications(session, m.actor,
                                                                    "submitted")]
        waiting = [egress_requests.view(r, m.actor)
                   for r in egress_requests.list_requests(session, m.actor)
                   if r.status in ("submitted", "in_review")]
    apps.sort(key=lambda a: a["deadline"])
    waiting.sort(key=lambda r: (r["deadline"] or "9999", r["id"]))
    return render(request, "review.html", m, apps=apps, requests=waiting)
