"""Egress: merchants request, answer returns and withdraw; reviewers vote; releases."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from actions import applications as application_actions
from actions import egress as egress_actions
from actions import jobs as job_actions
from egress import review as egress_review
from egress.checks import CHECK_NAMES
from egress.mitigate import MITIGATIONS
from egress.states import AWAITING_REVIEW
from egress.values import flagged_cells
from policies import Role
from policies.errors import DomainError
from policies.permissions import Action
from sandbox import jobs
from service.api.params import MAX_ID, PathId, parse_id
from service.downloads import downloaded
from service.web.base import Form, Member, back, context, error_page, home_of, member, render
from service.web.i18n import Said

router = APIRouter(include_in_schema=False)
# Flagged cells shown per request: the map names rules, never the output's values.
CELL_ROWS = 100
VALUE_ROWS = 50  # rows of the output's values per page, for reviewers


@router.get("/egress", response_class=HTMLResponse)
def egress_list(request: Request, m: Annotated[Member, Depends(member(Action.EGRESS_READ))],
                status: str = "") -> HTMLResponse:
    rows = egress_actions.search(context(request, m), status or None)
    rows.sort(key=lambda r: r["id"], reverse=True)
    return render(request, "egress_list.html", m, rows=rows, chosen_status=status)


def _new_form(request: Request, m: Member, job_id: int, values: dict[str, Any],
              error: str = "", status: int = 200) -> HTMLResponse:
    ctx = context(request, m)
    data = job_actions.summary(ctx, job_id)
    grant = application_actions.grant(ctx, data["grant_id"])
    # The datasets and the merchant's own tables it read: the product's sources to declare.
    sources = sorted(n for n, s in (data["sources"] or {}).items()
                     if s.get("kind") in ("dataset", "own"))
    return render(request, "egress_new.html", m, j=data, g=grant, sources=sources,
                  values=values, error=error, checks=CHECK_NAMES, mitigations=MITIGATIONS,
                  context_required=home_of(request).policy.egress.context_required,
                  status=status)


@router.get("/egress/new", response_class=HTMLResponse)
def egress_new(request: Request, job: Annotated[int, Query(ge=1, le=MAX_ID)],
               m: Annotated[Member, Depends(member(Action.EGRESS_REQUEST))]) -> HTMLResponse:
    return _new_form(request, m, job, {})


def _given(form: Any, key: str) -> str | None:
    """A field the form holds (None: the form has no such field, the value stays)."""
    return str(form.get(key)) if key in form else None


def _exceptions(form: Any) -> dict[str, str]:
    return {name: str(form.get(f"justify:{name}", "")).strip() for name in CHECK_NAMES
            if str(form.get(f"justify:{name}", "")).strip()}


@router.post("/egress", response_model=None)
def egress_submit(request: Request,
                  m: Annotated[Member, Depends(member(Action.EGRESS_REQUEST))], form: Form) -> Response:
    values = {k: str(form.get(k, "")) for k in ("job_id", "product", "purpose", "mitigation",
                                                "context", "controls")}
    sources = [str(s) for s in form.getlist("sources")]
    job_id = parse_id(values["job_id"])
    if job_id is None:
        return error_page(request, 422, "the form names no job", m)
    try:
        request_id = egress_actions.request(context(request, m), egress_actions.Ask(
            job_id, values["product"], values["purpose"], sources, form.get("abroad") == "on",
            _exceptions(form), values["mitigation"] or "none", form.get("draft") == "on",
            values["context"], values["controls"]))["id"]
    except DomainError as exc:
        values["sources"] = sources
        return _new_form(request, m, job_id, values, Said(exc), status=422)
    return back(f"/egress/{request_id}", "requested")


def _cell_map(checks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Flagged cells of the disclosure check by row and column, with their rules (no values)."""
    cells, _, _ = flagged_cells(checks)
    if not cells:
        return None
    check = next(c for c in checks if c["name"] == "disclosure")
    columns = list(dict.fromkeys(f["column"] for f in check["details"]["flagged"]))
    rows = sorted(cells)[:CELL_ROWS]
    return {"columns": columns, "rows": [(r, cells[r]) for r in rows],
            "more": max(len(cells) - CELL_ROWS, 0), "verdict": check["verdict"]}


@router.get("/egress/{request_id}", response_class=HTMLResponse)
def egress_page(request: Request, request_id: PathId,
                m: Annotated[Member, Depends(member(Action.EGRESS_READ))],
                offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
                flagged: bool = False) -> HTMLResponse:
    return _egress_page(request, m, request_id, offset, flagged)


def _egress_page(request: Request, m: Member, request_id: int, offset: int = 0,
                 flagged: bool = False, vote: dict[str, str] | None = None,
                 vote_error: str | None = None, status: int = 200) -> HTMLResponse:
    """The request's page; ``vote``/``vote_error``: a refused vote's fields, shown again with
    the reason inline."""
    ctx = context(request, m)
    data = egress_actions.show(ctx, request_id)
    try:  # a reviewer reads the job only of a request sent to them (sandbox.jobs.get)
        job = job_actions.summary(ctx, data["job_id"])
    except jobs.NotFound:
        job = None
    own = m.actor.role is Role.REVIEWER and m.actor.org == data["org"]
    voted = data.get("my_vote") is not None or any(
        r.get("reviewer_id") == m.actor.id and r["round"] == data["round"]
        for r in data.get("reviews") or [])
    can_vote = (m.actor.role is Role.REVIEWER and not own and not voted
                and data["status"] in AWAITING_REVIEW)
    failing = [c["name"] for c in data["checks"] or [] if c["verdict"] != "pass"]
    failed = [c["name"] for c in data["checks"] or [] if c["verdict"] == "fail"]
    # The server lets a reviewer override a failed check only where the merchant justified an
    # exception (egress.review); the form offers exactly those.
    overridable = [name for name in failed if name in (data["exceptions"] or {})]
    unexcused = [name for name in failed if name not in overridable]
    output = None
    if m.actor.role in (Role.REVIEWER, Role.ADMIN) and not own and data["status"] != "draft":
        try:  # what the reviewer signs: the values, flagged cells marked in place
            output = egress_actions.output_values(ctx, request_id, offset, VALUE_ROWS, flagged)
        except DomainError:
            output = None  # the output is gone (an ended grant); the checks still show
    return render(request, "egress.html", m, r=data, job=job, cells=_cell_map(data["checks"]),
                  output=output,
                  own_org=own, can_vote=can_vote, failing=failing, overridable=overridable,
                  unexcused=unexcused, vote=vote or {}, vote_error=vote_error, status=status,
                  points=egress_review.REVIEW_POINTS, checks=CHECK_NAMES,
                  mitigations=MITIGATIONS)


@router.post("/egress/{request_id}/resubmit", response_model=None)
def egress_resubmit(request: Request, request_id: PathId,
                    m: Annotated[Member, Depends(member(Action.EGRESS_REQUEST))], form: Form) -> Response:
    egress_actions.resubmit(context(request, m), request_id, egress_actions.Change(
        parse_id(form.get("job_id")), _exceptions(form) or None,
        str(form.get("mitigation") or "") or None, str(form.get("comment", "")),
        _given(form, "context"), _given(form, "controls")))
    return back(f"/egress/{request_id}", "resubmitted")


@router.post("/egress/{request_id}/withdraw", response_model=None)
def egress_withdraw(request: Request, request_id: PathId,
                    m: Annotated[Member, Depends(member(Action.EGRESS_REQUEST))], form: Form) -> Response:
    egress_actions.withdraw(context(request, m), request_id, str(form.get("reason", "")))
    return back(f"/egress/{request_id}", "withdrawn")


@router.post("/egress/{request_id}/vote", response_model=None)
def egress_vote(request: Request, request_id: PathId,
                m: Annotated[Member, Depends(member(Action.EGRESS_REVIEW))], form: Form) -> Response:
    checklist = {point: {"answer": str(form.get(f"point:{point}", "")),
                         "comment": str(form.get(f"note:{point}", ""))}
                 for point in egress_review.REVIEW_POINTS if form.get(f"point:{point}")}
    overrides = {name: str(form.get(f"override:{name}", "")).strip() for name in CHECK_NAMES
                 if str(form.get(f"override:{name}", "")).strip()}
    try:
        egress_actions.vote(context(request, m), request_id, egress_actions.Ballot(
            str(form.get("decision", "")), str(form.get("comment", "")),
            str(form.get("private_comment", "")), checklist, overrides))
    except DomainError as exc:
        if exc.kind not in ("forbidden", "invalid"):
            raise
        # A vote the rules refuse (a point unanswered, an override missing): the page again,
        # with what the reviewer wrote and why, instead of an error page.
        kept = {k: str(v) for k, v in form.items() if k != "csrf"}
        return _egress_page(request, m, request_id, vote=kept, vote_error=Said(exc),
                            status=422)
    return back(f"/egress/{request_id}", "voted")


@router.get("/releases", response_class=HTMLResponse)
def release_list(request: Request,
                 m: Annotated[Member, Depends(member(Action.RELEASE_READ))]) -> HTMLResponse:
    ctx = context(request, m)
    rows = egress_actions.releases(ctx)
    products = {p["product_no"]: p for p in egress_actions.products(ctx)}
    return render(request, "releases.html", m, rows=rows, products=products)


@router.get("/releases/{release_id}", response_class=HTMLResponse)
def release_page(request: Request, release_id: PathId,
                 m: Annotated[Member, Depends(member(Action.RELEASE_READ))],
                 offset: Annotated[int, Query(ge=0)] = 0) -> HTMLResponse:
    """The release, its table (paged) and the verification of its bundle: signature, file
    hashes, ledger proof."""
    ctx = context(request, m)
    data = egress_actions.release(ctx, release_id)
    if data is None:
        return error_page(request, 404, f"no release {release_id}", m)
    table = egress_actions.table(ctx, release_id, offset, VALUE_ROWS)
    return render(request, "release.html", m, rel=data, check=data.pop("verification"),
                  table=table)


@router.get("/releases/{release_id}/download")
def release_download(request: Request, release_id: PathId,
                     m: Annotated[Member, Depends(member(Action.RELEASE_DOWNLOAD))],
                     format: Literal["bundle", "csv", "xlsx"] = "bundle") -> Response:
    """The signed bundle (zip), or its table as CSV or XLSX; each download logged."""
    return downloaded(egress_actions.download(context(request, m), release_id, format), format)



@router.get("/review", response_class=HTMLResponse)
def review_queues(request: Request,
                  m: Annotated[Member, Depends(member(Action.EGRESS_REVIEW))]) -> HTMLResponse:
    """Applications and egress requests waiting for the reviewer, oldest deadline first."""
    ctx = context(request, m)
    apps = sorted(application_actions.search(ctx, "submitted"), key=lambda a: a["deadline"])
    waiting = egress_actions.awaiting_review(ctx)
    return render(request, "review.html", m, apps=apps, requests=waiting)
