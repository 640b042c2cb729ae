"""The catalog (every role) and applications (merchants apply, reviewers decide)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from actions import applications as application_actions
from actions import catalog as catalog_actions
from catalog import applications
from catalog.datasets import ATTRIBUTES
from catalog.errors import Conflict, InvalidInput, StorageFull
from catalog.reviews import ASSESSMENT_POINTS, OPEN_FOR_MATERIALS, RATINGS
from catalog.states import APPLICATIONS, ApplicationStatus
from policies import LEVELS, Role
from policies.permissions import Action, allowed
from policies.sections import ATTACHMENT_KINDS
from service.api.params import PathId
from service.downloads import attachment_download
from service.web.base import Form, Member, back, context, home_of, member, render
from service.web.i18n import Said

router = APIRouter(include_in_schema=False)
PREVIEW_ROWS = 20


@router.get("/catalog", response_class=HTMLResponse)
def catalog_page(request: Request, m: Annotated[Member, Depends(member(Action.DATASET_READ))], q: str = "",
                 domain: str = "", level: str = "", attribute: str = "") -> HTMLResponse:
    ctx = context(request, m)
    domains = catalog_actions.domains(ctx)
    found = catalog_actions.search(ctx, domain or None, level or None, attribute or None,
                                   q[:100] or None)
    return render(request, "catalog.html", m, found=found, q=q[:100], domain=domain,
                  level=level, attribute=attribute,
                  domains=domains, levels=LEVELS,
                  attributes=ATTRIBUTES)


@router.get("/catalog/{name}", response_class=HTMLResponse)
def dataset_page(request: Request, name: str,
                 m: Annotated[Member, Depends(member(Action.DATASET_READ))]) -> HTMLResponse:
    ctx = context(request, m)
    described = catalog_actions.show(ctx, name)
    preview = catalog_actions.preview(ctx, name, PREVIEW_ROWS)
    return render(request, "dataset.html", m, d=described, preview=preview)


@router.get("/catalog/{name}/preview", response_class=HTMLResponse)
def preview_fragment(request: Request, name: str,
                     m: Annotated[Member, Depends(member(Action.DATASET_READ))]) -> HTMLResponse:
    """The preview part of the dataset page; it polls itself while the preview is built."""
    ctx = context(request, m)
    preview = catalog_actions.preview(ctx, name, PREVIEW_ROWS)
    described = catalog_actions.show(ctx, name)
    return render(request, "preview.html", m, d=described, preview=preview)


@router.get("/applications", response_class=HTMLResponse)
def application_list(request: Request, m: Annotated[Member, Depends(member(Action.APPLICATION_READ))],
                     status: str = "") -> HTMLResponse:
    rows = application_actions.search(context(request, m), status or None)
    rows.sort(key=lambda a: (a["status"] != "submitted", a["deadline"]))
    return render(request, "applications.html", m, rows=rows, chosen_status=status)


def _application_form(request: Request, m: Member, chosen: dict[str, list[str]],
                      values: dict[str, Any], error: str = "", status: int = 200,
                      raw: dict[str, list[str]] | None = None,
                      amending: dict[str, Any] | None = None) -> HTMLResponse:
    catalog = catalog_actions.search(context(request, m), detail=True)
    return render(request, "apply.html", m, catalog=catalog, chosen=chosen, values=values,
                  raw=raw or {}, error=error, amending=amending,
                  max_months=home_of(request).policy.max_grant_months, status=status)


@router.get("/applications/new", response_class=HTMLResponse)
def application_new(request: Request, m: Annotated[Member, Depends(member(Action.APPLICATION_SUBMIT))],
                    dataset: str = "") -> HTMLResponse:
    return _application_form(request, m, {dataset: []} if dataset else {}, {"months": 12})


def _filled(form: Any) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, list[str]]]:
    """The application form's fields, chosen columns and raw columns."""
    values: dict[str, Any] = {k: str(form.get(k, "")) for k in (
        "scenario", "description", "purpose", "products", "months")}
    values["abroad"] = form.get("abroad") == "on"
    chosen: dict[str, list[str]] = {}
    raw: dict[str, list[str]] = {}
    # Column boxes are named col:<dataset>:<column>; raw boxes raw:<dataset>:<column>.
    for key in form:
        kind, _, rest = key.partition(":")
        dataset, _, column = rest.partition(":")
        if kind == "col" and column:
            chosen.setdefault(dataset, []).append(column)
        elif kind == "raw" and column:
            raw.setdefault(dataset, []).append(column)
    return values, chosen, raw


def _request_of(values: dict[str, Any], chosen: dict[str, list[str]],
                raw: dict[str, list[str]]) -> applications.Request:
    try:
        months = int(values["months"] or 0)
    except ValueError:
        months = 0
    items = [{"dataset": name, "columns": cols, "raw_columns": raw.get(name, [])}
             for name, cols in chosen.items()]
    if not items:
        raise InvalidInput("choose at least one column of one dataset")
    return applications.Request(values["scenario"], values["description"], values["purpose"],
                                values["products"], months, bool(values["abroad"]), items)


@router.post("/applications", response_model=None)
def application_submit(request: Request,
                       m: Annotated[Member, Depends(member(Action.APPLICATION_SUBMIT))],
                       form: Form) -> Response:
    values, chosen, raw = _filled(form)
    try:
        app_id = application_actions.submit(context(request, m),
                                            _request_of(values, chosen, raw))["id"]
    except InvalidInput as exc:
        return _application_form(request, m, chosen, values, Said(exc), status=422, raw=raw)
    return back(f"/applications/{app_id}", "applied")


@router.get("/applications/{application_id}/amend", response_class=HTMLResponse)
def application_amend_form(request: Request, application_id: PathId,
                           m: Annotated[Member, Depends(member(Action.APPLICATION_SUBMIT))]
                           ) -> Response:
    app = application_actions.show(context(request, m), application_id)
    if not APPLICATIONS.allows(app["status"], ApplicationStatus.SUBMITTED):
        return back(f"/applications/{application_id}")
    values = {k: app[k] for k in ("scenario", "description", "purpose", "products", "months",
                                  "abroad")}
    chosen = {i["dataset"]: i["columns"] for i in app["items"]}
    raw = {i["dataset"]: i["raw_columns"] for i in app["items"]}
    return _application_form(request, m, chosen, values, raw=raw, amending=app)


@router.post("/applications/{application_id}/amend", response_model=None)
def application_amend(request: Request, application_id: PathId,
                      m: Annotated[Member, Depends(member(Action.APPLICATION_SUBMIT))],
                      form: Form) -> Response:
    values, chosen, raw = _filled(form)
    ctx = context(request, m)
    try:
        application_actions.amend(ctx, application_id, _request_of(values, chosen, raw))
    except InvalidInput as exc:
        return _application_form(request, m, chosen, values, Said(exc), status=422, raw=raw,
                                 amending=application_actions.show(ctx, application_id))
    return back(f"/applications/{application_id}", "amended")


@router.post("/applications/{application_id}/withdraw", response_model=None)
def application_withdraw(request: Request, application_id: PathId,
                         m: Annotated[Member, Depends(member(Action.APPLICATION_SUBMIT))]
                         ) -> Response:
    application_actions.withdraw(context(request, m), application_id)
    return back(f"/applications/{application_id}", "application_withdrawn")


@router.get("/applications/{application_id}", response_class=HTMLResponse)
def application_page(request: Request, application_id: PathId,
                     m: Annotated[Member, Depends(member(Action.APPLICATION_READ))]) -> HTMLResponse:
    return _application(request, application_id, m)


def _application(request: Request, application_id: int, m: Member, error: str = "",
                 comment: str = "", status: int = 200, where: str = "decision",
                 rated: dict[str, str] | None = None) -> HTMLResponse:
    """The application's page; ``error`` is shown at the form named ``where`` (decision, a
    dataset's check, attachments), with what the user entered (``comment``, ``rated``)."""
    app = application_actions.show(context(request, m), application_id)
    may = {to: APPLICATIONS.allows(app["status"], to) for to in ApplicationStatus}
    merchant = m.actor.role is Role.MERCHANT
    policy = home_of(request).policy
    return render(request, "application.html", m, a=app, error=error, comment=comment,
                  where=where, rated=rated or {}, points=ASSESSMENT_POINTS, ratings=RATINGS,
                  kinds=ATTACHMENT_KINDS, types=policy.applications.attachment_types,
                  max_attachment=policy.attachment_max_bytes,
                  can_decide=m.actor.role is Role.REVIEWER and may[ApplicationStatus.APPROVED],
                  can_check=allowed(m.actor, Action.APPLICATION_CHECK)
                  and app["status"] in ("submitted", "escalated"),
                  can_attach=merchant and app["status"] in OPEN_FOR_MATERIALS,
                  can_withdraw=merchant and may[ApplicationStatus.WITHDRAWN],
                  can_amend=merchant and may[ApplicationStatus.SUBMITTED], status=status)


def _rated(form: Any) -> dict[str, str]:
    return {p: str(form.get(f"assess_{p}", "")) for p in ASSESSMENT_POINTS
            if form.get(f"assess_{p}")}


@router.post("/applications/{application_id}/decision", response_model=None)
def application_decide(request: Request, application_id: PathId,
                       m: Annotated[Member, Depends(member(Action.APPLICATION_DECIDE))],
                       form: Form) -> Response:
    comment, rated = str(form.get("comment", "")), _rated(form)
    try:
        application_actions.decide(context(request, m), application_id,
                                   str(form.get("decision", "")), comment, rated or None)
    except (InvalidInput, Conflict) as exc:  # keep the page and what the reviewer wrote
        return _application(request, application_id, m, Said(exc), comment, 422, rated=rated)
    return back(f"/applications/{application_id}", "decided")


@router.post("/applications/{application_id}/checks/{dataset}", response_model=None)
def application_check(request: Request, application_id: PathId, dataset: str,
                      m: Annotated[Member, Depends(member(Action.APPLICATION_CHECK))],
                      form: Form) -> Response:
    """The providing department's check of its dataset's part (核查)."""
    comment, rated = str(form.get("comment", "")), _rated(form)
    try:
        application_actions.check(context(request, m), application_id, dataset,
                                  str(form.get("verdict", "")), rated, comment)
    except (InvalidInput, Conflict) as exc:
        return _application(request, application_id, m, Said(exc), comment, 422,
                            f"check-{dataset}", rated)
    return back(f"/applications/{application_id}", "checked")


@router.post("/applications/{application_id}/attachments", response_model=None)
def application_attach(request: Request, application_id: PathId,
                       m: Annotated[Member, Depends(member(Action.APPLICATION_SUBMIT))],
                       form: Form) -> Response:
    upload = form.get("file")
    try:
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise InvalidInput("choose a file to attach")
        application_actions.attach(context(request, m), application_id,
                                   str(form.get("kind", "")), upload.filename, upload.file)
    except (InvalidInput, Conflict, StorageFull) as exc:
        return _application(request, application_id, m, Said(exc), status=422,
                            where="attachments")
    return back(f"/applications/{application_id}", "attached")


@router.get("/applications/{application_id}/attachments/{attachment_id}", response_model=None)
def application_attachment(request: Request, application_id: PathId, attachment_id: PathId,
                           m: Annotated[Member, Depends(member(Action.APPLICATION_READ))]
                           ) -> Response:
    path, described = application_actions.attachment_file(context(request, m), application_id,
                                                          attachment_id)
    return attachment_download(path, described["filename"])


@router.post("/applications/{application_id}/attachments/{attachment_id}/delete",
             response_model=None)
def application_detach(request: Request, application_id: PathId, attachment_id: PathId,
                       m: Annotated[Member, Depends(member(Action.APPLICATION_SUBMIT))]
                       ) -> Response:
    application_actions.detach(context(request, m), application_id, attachment_id)
    return back(f"/applications/{application_id}", "detached")
