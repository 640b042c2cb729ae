"""Administrators: monitoring, users and organizations, policy, ledger, lineage, report."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from actions import jobs as job_actions
from actions import ledger as ledger_actions
from actions import users as user_actions
from policies import Role
from policies.errors import DomainError
from policies.permissions import Action
from policies.sections import SECTIONS
from reporting import graph, metering
from service.api.params import PathId, QueryId
from service.web import i18n
from service.web.base import (
    Form,
    Member,
    back,
    context,
    error_page,
    flash,
    flashed,
    home_of,
    language,
    member,
    render,
)
from service.web.charts import line_chart
from service.web.i18n import Said

router = APIRouter(include_in_schema=False)
ADMIN = Depends(member(Role.ADMIN))
# The auditing pages: administrators and the regulator, who reads them and changes nothing.
AUDITOR = Depends(member(Action.LEDGER_AUDIT))
PAGE = 50


@router.get("/admin", response_class=HTMLResponse)
def monitoring(request: Request, m: Annotated[Member, AUDITOR], months: int = 12) -> HTMLResponse:
    """The indicators of the implementation guide, per month, with this year's totals."""
    ctx = context(request, m)
    today = dt.datetime.now(dt.UTC).date()
    series = ledger_actions.monitoring(ctx, max(3, min(months, 60)), today)
    year = ledger_actions.disclosure_report(ctx, today.year)
    i18n.current.set(language(request))
    charts = {}
    for group, lines in series["groups"].items():
        counts = {i18n.gettext(k): v for k, v in lines.items() if not k.endswith("_share")}
        charts[group] = [line_chart(series["months"], counts, i18n.gettext(group))]
        shares = {i18n.gettext(k): v for k, v in lines.items() if k.endswith("_share")}
        if shares:
            charts[group].append(line_chart(series["months"], shares, i18n.gettext(group),
                                            share=True))
    return render(request, "admin_monitoring.html", m, charts=charts, totals=year["indicators"],
                  year=today.year, months=len(series["months"]))


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, m: Annotated[Member, ADMIN]) -> HTMLResponse:
    # A new user's token arrives once, kept by the form's answer for this page: reloading it
    # shows the token no more and posts nothing again.
    created = flashed(request) if request.query_params.get("done") == "user_added" else None
    return _users(request, m, created=created)


def _users(request: Request, m: Member, created: dict | None = None, error: str = "",
           status: int = 200) -> HTMLResponse:
    ctx = context(request, m)
    users, orgs = user_actions.search(ctx), user_actions.organizations(ctx)
    return render(request, "admin_users.html", m, users=users, orgs=orgs, created=created,
                  error=error, roles=[r.value for r in Role], status=status)


@router.post("/admin/users", response_model=None)
def user_add(request: Request, m: Annotated[Member, ADMIN], form: Form) -> Response:
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    try:
        created = user_actions.add(context(request, m), name, str(form.get("role", "")),
                                   str(form.get("org", "")).strip() or None, password or None,
                                   str(form.get("email", "")).strip() or None)
    except DomainError as exc:
        return _users(request, m, error=Said(exc), status=422)
    flash(request, {"name": created["name"], "token": created["token"]})
    return back("/admin/users", "user_added")


@router.post("/admin/users/{name}/status", response_model=None)
def user_status(request: Request, name: str, m: Annotated[Member, ADMIN], form: Form) -> Response:
    user_actions.set_active(context(request, m), name, form.get("active") == "yes")
    return back("/admin/users", "user_changed")


@router.post("/admin/users/{name}/password", response_model=None)
def user_password(request: Request, name: str, m: Annotated[Member, ADMIN], form: Form) -> Response:
    try:
        user_actions.set_password(context(request, m), name, str(form.get("password", "")))
    except DomainError as exc:
        return _users(request, m, error=Said(exc), status=422)
    return back("/admin/users", "user_changed")


@router.get("/admin/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, m: Annotated[Member, ADMIN]) -> HTMLResponse:
    """Security alerts: a grant's daily budget of real-data jobs spent, or probing patterns."""
    alerts = job_actions.alerts(context(request, m))
    return render(request, "admin_alerts.html", m, alerts=alerts)


@router.post("/admin/alerts/{alert_id}/ack", response_model=None)
def alert_ack(request: Request, alert_id: PathId, m: Annotated[Member, ADMIN]) -> Response:
    job_actions.acknowledge(context(request, m), alert_id)
    return back("/admin/alerts", "acknowledged")


@router.get("/admin/policy", response_class=HTMLResponse)
def policy_page(request: Request, m: Annotated[Member, AUDITOR]) -> HTMLResponse:
    home = home_of(request)
    return render(request, "admin_policy.html", m, sections=_sections(home.policy.raw),
                  helps={s.NAME: {f.name: f.metadata["help"] for f in s.settings()}
                         for s in SECTIONS},
                  policy_file=str(home.policy_path))


def _sections(raw: dict, prefix: str = "") -> dict[str, dict]:
    """The policy's settings by TOML section; each level's rule stays one row."""
    out: dict[str, dict] = {}
    flat = {k: v for k, v in raw.items() if not isinstance(v, dict) or prefix == "levels"}
    if flat:
        out[prefix] = flat
    for key, value in raw.items():
        if isinstance(value, dict) and prefix != "levels":
            out.update(_sections(value, f"{prefix}.{key}" if prefix else key))
    return out


@router.get("/admin/ledger", response_class=HTMLResponse)
def ledger_page(request: Request, m: Annotated[Member, AUDITOR], actor: str = "",
                action: str = "", subject: str = "", since: str = "", until: str = "",
                before: QueryId = None, verify: str = "") -> HTMLResponse:
    ctx = context(request, m)
    filters = {"actor": actor, "action": action, "subject": subject, "since": since,
               "until": until}
    try:
        found = ledger_actions.events(ctx, actor=actor or None, action=action or None,
                                      subject=subject or None, since=since or None,
                                      until=until or None, before_seq=before, limit=PAGE)
        error = ""
    except DomainError as exc:
        found, error = {"events": [], "next_before": None, "checkpoint_size": 0}, Said(exc)
    verification = ledger_actions.verify(ctx) if verify else None
    return render(request, "admin_ledger.html", m, found=found, filters=filters, error=error,
                  verification=verification)


@router.get("/admin/ledger/{seq}", response_class=HTMLResponse)
def ledger_event(request: Request, seq: PathId, m: Annotated[Member, AUDITOR]) -> HTMLResponse:
    data = ledger_actions.event(context(request, m), seq)
    if data is None:
        return error_page(request, 404, f"no ledger event {seq} (it may be archived)", m)
    proof, proof_error = data.pop("proof"), data.pop("proof_error")
    return render(request, "admin_event.html", m, e=data,
                  payload=json.dumps(data.get("payload"), ensure_ascii=False, indent=2),
                  proof=json.dumps(proof, ensure_ascii=False, indent=2) if proof else "",
                  proof_error=proof_error)


@router.get("/admin/lineage", response_class=HTMLResponse)
def lineage_page(request: Request, m: Annotated[Member, AUDITOR], node: str = "",
                 direction: str = "both") -> HTMLResponse:
    ctx = context(request, m)
    nodes = ledger_actions.lineage_nodes(ctx)
    choices = sorted(nodes.values(), key=lambda n: n["id"])
    direction = _direction(direction)
    known = node in nodes
    part = ledger_actions.lineage(ctx, node, direction).as_dict() if known else None
    return render(request, "admin_lineage.html", m, node=node[:200], direction=direction,
                  choices=choices, known=known, part=part, drawable=graph.drawable())


@router.get("/admin/lineage.svg")
def lineage_picture(request: Request, m: Annotated[Member, AUDITOR], node: str,
                    direction: str = "both") -> Response:
    part = ledger_actions.lineage(context(request, m), node, _direction(direction))
    i18n.current.set(language(request))
    _in_words(part)
    return Response(graph.to_svg(part), media_type="image/svg+xml",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


def _direction(value: str) -> str:
    return value if value in ("up", "down", "both") else "both"


def _in_words(part: graph.Graph) -> None:
    """Label the picture's nodes in the reader's language: the kind, the id, a detail."""
    for node in part.nodes.values():
        kind, _, rest = node["id"].partition(":")
        key = f"node:{kind}"  # the words are vocabulary.NODE_LABELS
        target = node.get("target")
        detail = {"dataset_version": node.get("label"),
                  "job": i18n.gettext(target) if target else None,
                  "egress": node.get("product"), "release": node.get("product_no"),
                  "download": (node.get("time") or "")[:16]}.get(kind)
        node["label"] = f"{i18n.gettext(key)} {rest}" + (f" · {detail}" if detail else "")


@router.get("/admin/report", response_class=HTMLResponse)
def report_page(request: Request, m: Annotated[Member, AUDITOR],
                year: int | None = None) -> HTMLResponse:
    year = year or dt.datetime.now(dt.UTC).year
    data = ledger_actions.disclosure_report(context(request, m), year)
    return render(request, "admin_report.html", m, r=data, year=year)


@router.get("/admin/report.{fmt}")
def report_download(request: Request, fmt: str, m: Annotated[Member, AUDITOR],
                    year: int) -> Response:
    text = ledger_actions.report(context(request, m), year, fmt)
    media = {"md": "text/markdown", "json": "application/json", "html": "text/html"}[fmt]
    return Response(text, media_type=f"{media}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="disclosure-{year}.{fmt}"'})


def _period(since: str, until: str) -> tuple[str, str]:
    """The period asked for; by default this year so far."""
    today = dt.datetime.now(dt.UTC).date()
    return (since[:10] or f"{today.year}-01-01",
            until[:10] or (today + dt.timedelta(days=1)).isoformat())


@router.get("/admin/usage", response_class=HTMLResponse)
def usage_page(request: Request, m: Annotated[Member, AUDITOR], since: str = "",
               until: str = "") -> HTMLResponse:
    since, until = _period(since, until)
    data = ledger_actions.usage(context(request, m), since, until)
    return render(request, "admin_usage.html", m, u=data)


@router.get("/admin/usage.csv")
def usage_download(request: Request, m: Annotated[Member, AUDITOR], since: str = "",
                   until: str = "", part: str = "grants") -> Response:
    since, until = _period(since, until)
    if part not in ("organizations", "grants", "datasets"):
        part = "grants"
    text = metering.as_csv(ledger_actions.usage(context(request, m), since, until), part)
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="usage-{part}-{since}-{until}.csv"'})
