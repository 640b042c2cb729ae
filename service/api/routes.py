"""Endpoints of /api/v1. Every endpoint checks the caller's role before anything else."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from catalog import applications, datasets, previews
from egress import requesting as egress_requests
from egress import review as egress_review_module
from egress.bundle import zipped
from lineage import append, audit, graph, proofs, verify_ledger
from policies import Actor, Forbidden, Role
from sandbox import budget, jobs, visibility
from service.api.params import MAX_ID, BodyId, PathId, QueryId
from service.home import Home
from service.limits import RateLimited
from service.uploads import register_upload
from service.users import (
    ANONYMOUS,
    BadToken,
    add_user,
    authenticate,
    list_users,
    rotate_token,
    token_view,
)

router = APIRouter()
bearer = HTTPBearer(auto_error=False)
ALL = (Role.PROVIDER, Role.MERCHANT, Role.REVIEWER, Role.ADMIN)


# Dependencies that do no I/O are coroutines: FastAPI runs plain functions in its thread pool,
# and under load every hop to a thread waits for the GIL.
async def home_of(request: Request) -> Home:
    return request.app.state.home


def current_actor(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None,
                                         Depends(bearer)]) -> Actor:
    """The token's user. A refused token is logged to the ledger; a client sending too many
    refused tokens, or a token used too often, waits (HTTP 429)."""
    home: Home = request.app.state.home
    limits = request.app.state.limits
    client = request.client.host if request.client else "?"
    if wait := limits.token_failures.wait(client):
        raise RateLimited(f"too many refused API tokens from {client}: wait {wait} s", wait)
    try:
        with home.store.read(autocommit=True) as session:
            actor = authenticate(session, credentials.credentials if credentials else None,
                                 home.policy.api["token_days"])
    except BadToken as exc:
        limits.token_failures.hit(client)
        with home.store.transaction() as session:
            append(session, ANONYMOUS, "auth.failed",
                   f"user:{exc.user_id}" if exc.user_id else "user:unknown",
                   {"via": "api", "reason": exc.message.split(":")[0][:80]})
        raise
    if wait := limits.requests.hit(f"user:{actor.id}"):
        raise RateLimited(f"this token made more than {limits.requests.per_minute} requests "
                          f"in a minute: wait {wait} s", wait)
    return actor


def allow(*roles: Role):
    async def dependency(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if actor.role not in roles:
            raise Forbidden(f"this endpoint needs the role {', '.join(r.value for r in roles)}; "
                            f"you are {actor.role.value}")
        return actor
    return dependency


HomeDep = Annotated[Home, Depends(home_of)]


@router.get("/me", tags=["users"])
def me(actor: Annotated[Actor, Depends(allow(*ALL))]) -> dict[str, Any]:
    return {"id": actor.id, "name": actor.name, "role": actor.role.value, "org": actor.org}


class NewUser(BaseModel):
    name: str
    role: str
    org: str | None = None


@router.post("/users", status_code=201, tags=["users"])
def create_user(body: NewUser, home: HomeDep,
                actor: Annotated[Actor, Depends(allow(Role.ADMIN))]) -> dict[str, Any]:
    """Create a user; the response carries its API token, shown only this once."""
    with home.store.transaction() as session:
        user, token = add_user(session, actor, body.name, body.role, body.org)
        return user.as_dict() | {"token": token}


@router.get("/users", tags=["users"])
def users(home: HomeDep, actor: Annotated[Actor, Depends(allow(Role.ADMIN))]) -> list[dict]:
    with home.store.read() as session:
        return [u.as_dict() for u in list_users(session, actor)]


@router.post("/me/token", tags=["users"])
def my_token(home: HomeDep, actor: Annotated[Actor, Depends(allow(*ALL))]) -> dict[str, Any]:
    """Rotate your own API token: the response carries the new one (shown only this once);
    the token used for this request stops working at once."""
    with home.store.transaction() as session:
        user, token = rotate_token(session, actor, actor.name)
        return token_view(user, token, home.policy.api["token_days"])


@router.post("/users/{name}/token", tags=["users"])
def user_token(name: str, home: HomeDep,
               actor: Annotated[Actor, Depends(allow(Role.ADMIN))]) -> dict[str, Any]:
    """Issue a new API token for a user (e.g. one whose token expired or leaked)."""
    with home.store.transaction() as session:
        user, token = rotate_token(session, actor, name)
        return token_view(user, token, home.policy.api["token_days"])


# -- catalog -------------------------------------------------------------------------------

@router.get("/datasets", tags=["catalog"])
def dataset_list(home: HomeDep, _actor: Annotated[Actor, Depends(allow(*ALL))],
                 domain: str | None = None, level: str | None = None,
                 attribute: str | None = None,
                 q: Annotated[str | None, Query(max_length=100,
                                                description="words in name, title, "
                                                            "description or number")] = None
                 ) -> list[dict[str, Any]]:
    with home.store.read(autocommit=True) as session:
        return [datasets.describe(d) for d in datasets.list_datasets(session, domain, level,
                                                                     attribute, q)]


@router.get("/datasets/{name}", tags=["catalog"])
def dataset_detail(name: str, home: HomeDep,
                   _actor: Annotated[Actor, Depends(allow(*ALL))]) -> dict[str, Any]:
    with home.store.read(autocommit=True) as session:
        return datasets.describe(datasets.get(session, name), detail=True)


@router.post("/datasets", status_code=201, tags=["catalog"])
def dataset_register(
    home: HomeDep, actor: Annotated[Actor, Depends(allow(Role.PROVIDER, Role.ADMIN))],
    file: Annotated[UploadFile, File()], name: Annotated[str, Form()],
    title: Annotated[str, Form()], domain: Annotated[str, Form()],
    level: Annotated[str, Form()], attribute: Annotated[str, Form()],
    background: BackgroundTasks, description: Annotated[str, Form()] = "",
) -> dict[str, Any]:
    """Upload and register a Parquet or CSV file (streamed to disk within the policy's limit)."""
    return register_upload(home, actor, file.file, file.filename,
                           datasets.Registration(name, title, domain, level, attribute,
                                                 description), background)


@router.get("/datasets/{name}/preview", tags=["catalog"])
def dataset_preview(name: str, home: HomeDep, _actor: Annotated[Actor, Depends(allow(*ALL))],
                    rows: Annotated[int, Query(ge=1, le=10_000)] = 20) -> dict[str, Any]:
    """The simulated preview of the latest version, labelled, with its report."""
    with home.store.read(autocommit=True) as session:
        return previews.show(home.data, datasets.get(session, name).latest, rows)


class Classification(BaseModel):
    entities: dict[str, str | None] = Field(default_factory=dict,
                                            description="column -> entity type, or null: none")
    quasi_identifiers: list[str] | None = None
    confidential: list[str] | None = None
    level: str | None = None
    person_key: str | None = Field(None, description="the column naming each contributor (a "
                                   "person or enterprise); \"\": none, each row one contributor")


@router.post("/datasets/{name}/classification", tags=["catalog"])
def dataset_classify(name: str, body: Classification, home: HomeDep,
                     actor: Annotated[Actor, Depends(allow(Role.PROVIDER, Role.ADMIN))]
                     ) -> dict[str, Any]:
    """Confirm the latest version's column classification, overriding the scan's suggestions."""
    with home.store.transaction() as session:
        version = datasets.classify(session, actor, name, body.entities, body.quasi_identifiers,
                                    body.confidential, body.level, body.person_key)
        return datasets.describe(version.dataset, detail=True)


# -- applications and grants ---------------------------------------------------------------

class Item(BaseModel):
    dataset: str
    columns: list[str]
    raw_columns: list[str] = Field(default_factory=list,
                                   description="identifier columns needed as real values")


class NewApplication(BaseModel):
    scenario: str
    description: str
    purpose: str
    products: str
    months: int
    abroad: bool = False
    items: list[Item] = Field(min_length=1)


@router.post("/applications", status_code=201, tags=["applications"])
def application_submit(body: NewApplication, home: HomeDep,
                       actor: Annotated[Actor, Depends(allow(Role.MERCHANT))]) -> dict[str, Any]:
    req = applications.Request(body.scenario, body.description, body.purpose, body.products,
                               body.months, body.abroad, [i.model_dump() for i in body.items])
    with home.store.transaction() as session:
        return applications.submit(session, actor, home.policy, req).as_dict()


@router.get("/applications", tags=["applications"])
def application_list(home: HomeDep,
                     actor: Annotated[Actor, Depends(allow(Role.MERCHANT, Role.REVIEWER,
                                                           Role.ADMIN))],
                     status: str | None = None) -> list[dict[str, Any]]:
    with home.store.read() as session:
        return [a.as_dict() for a in applications.list_applications(session, actor, status)]


@router.get("/applications/{application_id}", tags=["applications"])
def application_detail(application_id: PathId, home: HomeDep,
                       actor: Annotated[Actor, Depends(allow(Role.MERCHANT, Role.REVIEWER,
                                                             Role.ADMIN))]) -> dict[str, Any]:
    with home.store.read() as session:
        return applications.get(session, actor, application_id).as_dict()


class Decision(BaseModel):
    approve: bool
    comment: str = ""


@router.post("/applications/{application_id}/decision", tags=["applications"])
def application_decide(application_id: PathId, body: Decision, home: HomeDep,
                       actor: Annotated[Actor, Depends(allow(Role.REVIEWER))]) -> dict[str, Any]:
    with home.store.transaction() as session:
        return applications.decide(session, actor, home.policy, application_id, body.approve,
                                   body.comment).as_dict()


@router.post("/applications/sweep", tags=["applications"])
def application_sweep(home: HomeDep,
                      _actor: Annotated[Actor, Depends(allow(Role.ADMIN))]) -> dict[str, Any]:
    with home.store.transaction() as session:
        return applications.sweep(session, home.policy, home.data)


@router.get("/grants", tags=["applications"])
def grant_list(home: HomeDep,
               actor: Annotated[Actor, Depends(allow(Role.MERCHANT, Role.REVIEWER,
                                                     Role.ADMIN))]) -> list[dict[str, Any]]:
    with home.store.read() as session:
        return [jobs.grant_view(home.policy, g)
                for g in applications.list_grants(session, actor)]


class Revocation(BaseModel):
    reason: str


@router.post("/grants/{grant_id}/revoke", tags=["applications"])
def grant_revoke(grant_id: PathId, body: Revocation, home: HomeDep,
                 actor: Annotated[Actor, Depends(allow(Role.ADMIN))]) -> dict[str, Any]:
    with home.store.transaction() as session:
        return applications.revoke(session, actor, grant_id, body.reason,
                                   home.data).as_dict()


# -- jobs ----------------------------------------------------------------------------------

class NewJob(BaseModel):
    grant_id: BodyId
    sql: str
    output_name: str
    target: str = "real"


@router.post("/jobs", status_code=202, tags=["jobs"])
def job_submit(body: NewJob, home: HomeDep, request: Request,
               actor: Annotated[Actor, Depends(allow(Role.MERCHANT))]) -> dict[str, Any]:
    """Queue a job; poll GET /jobs/{id} for its status (real outputs show no rows, simulated
    ones show their first rows)."""
    with home.store.transaction() as session:
        job = jobs.submit(session, actor, home.policy, home.data, body.grant_id, body.sql,
                          body.output_name, body.target)
        data = visibility.shown(home.policy, job, actor)
    pool = getattr(request.app.state, "pool", None)
    if pool is not None:
        pool.wake()
    return data


@router.get("/jobs", tags=["jobs"])
def job_list(home: HomeDep,
             actor: Annotated[Actor, Depends(allow(Role.MERCHANT, Role.REVIEWER, Role.ADMIN))],
             grant_id: QueryId = None, status: str | None = None) -> list[dict[str, Any]]:
    with home.store.read() as session:
        return [visibility.shown(home.policy, j, actor)
                for j in jobs.list_jobs(session, actor, grant_id, status)]


@router.get("/jobs/{job_id}", tags=["jobs"])
def job_detail(job_id: PathId, home: HomeDep,
               actor: Annotated[Actor, Depends(allow(Role.MERCHANT, Role.REVIEWER,
                                                     Role.ADMIN))]) -> dict[str, Any]:
    with home.store.read(autocommit=True) as session:
        return jobs.view(home.data, home.policy, jobs.get(session, actor, job_id), actor)


@router.post("/jobs/{job_id}/cancel", tags=["jobs"])
def job_cancel(job_id: PathId, home: HomeDep,
               actor: Annotated[Actor, Depends(allow(Role.MERCHANT, Role.ADMIN))]
               ) -> dict[str, Any]:
    """Cancel a queued job, or ask the worker running it to stop it."""
    with home.store.transaction() as session:
        return visibility.shown(home.policy, jobs.cancel(session, actor, job_id), actor)


@router.get("/alerts", tags=["jobs"])
def alert_list(home: HomeDep, actor: Annotated[Actor, Depends(allow(Role.ADMIN))],
               open_only: bool = False) -> list[dict[str, Any]]:
    """Security alerts, newest first: a grant's daily budget of real-data jobs spent, jobs
    that differ only in their literals, or repeated failures (probing)."""
    with home.store.read() as session:
        return [a.as_dict() for a in budget.list_alerts(session, actor, open_only)]


@router.post("/alerts/{alert_id}/ack", tags=["jobs"])
def alert_ack(alert_id: PathId, home: HomeDep,
              actor: Annotated[Actor, Depends(allow(Role.ADMIN))]) -> dict[str, Any]:
    with home.store.transaction() as session:
        return budget.acknowledge(session, actor, alert_id).as_dict()


# -- egress and releases -------------------------------------------------------------------

Mitigation = Literal["none", "suppress", "round", "suppress+round"]


class NewEgress(BaseModel):
    job_id: BodyId
    product: str
    purpose: str
    sources: list[str]
    abroad: bool = False
    exceptions: dict[str, str] = Field(default_factory=dict,
                                       description="failing check -> written justification")
    mitigation: Mitigation = "none"
    draft: bool = False


@router.post("/egress", status_code=201, tags=["egress"])
def egress_request(body: NewEgress, home: HomeDep,
                   actor: Annotated[Actor, Depends(allow(Role.MERCHANT))]) -> dict[str, Any]:
    """Request release of a job's output; the automatic checks run at once."""
    with home.store.transaction() as session:
        req = egress_requests.request(session, actor, home.policy, home.data,
                                      home.pseudonym_secret, body.job_id, body.product,
                                      body.purpose, body.sources, body.abroad, body.exceptions,
                                      body.mitigation, body.draft)
        return egress_requests.view(req, actor)


@router.get("/egress", tags=["egress"])
def egress_list(home: HomeDep,
                actor: Annotated[Actor, Depends(allow(Role.MERCHANT, Role.REVIEWER, Role.ADMIN))],
                status: str | None = None) -> list[dict[str, Any]]:
    with home.store.read() as session:
        return [egress_requests.view(r, actor)
                for r in egress_requests.list_requests(session, actor, status)]


@router.get("/egress/{request_id}", tags=["egress"])
def egress_detail(request_id: PathId, home: HomeDep,
                  actor: Annotated[Actor, Depends(allow(Role.MERCHANT, Role.REVIEWER,
                                                        Role.ADMIN))]) -> dict[str, Any]:
    with home.store.read() as session:
        return egress_requests.view(egress_requests.get(session, actor, request_id), actor)


class Resubmit(BaseModel):
    job_id: BodyId | None = None
    exceptions: dict[str, str] | None = None
    mitigation: Mitigation | None = None
    comment: str = ""


@router.post("/egress/{request_id}/resubmit", tags=["egress"])
def egress_resubmit(request_id: PathId, body: Resubmit, home: HomeDep,
                    actor: Annotated[Actor, Depends(allow(Role.MERCHANT))]) -> dict[str, Any]:
    """Submit a draft, answer a return, or update a request under review (votes reset)."""
    with home.store.transaction() as session:
        req = egress_requests.resubmit(session, actor, home.policy, home.data,
                                       home.pseudonym_secret, request_id, body.job_id,
                                       body.exceptions, body.mitigation, body.comment)
        return egress_requests.view(req, actor)


class Withdraw(BaseModel):
    reason: str = ""


@router.post("/egress/{request_id}/withdraw", tags=["egress"])
def egress_withdraw(request_id: PathId, body: Withdraw, home: HomeDep,
                    actor: Annotated[Actor, Depends(allow(Role.MERCHANT))]) -> dict[str, Any]:
    with home.store.transaction() as session:
        return egress_requests.view(
            egress_requests.withdraw(session, actor, request_id, body.reason), actor)


class PointAnswer(BaseModel):
    answer: Literal["yes", "no", "n/a"]
    comment: str = ""


class Review(BaseModel):
    decision: Literal["approve", "reject", "return"]
    comment: str
    private_comment: str = ""
    checklist: dict[str, PointAnswer] = Field(default_factory=dict)
    overrides: dict[str, str] = Field(default_factory=dict,
                                      description="failing check -> reason to override it")


@router.post("/egress/{request_id}/review", tags=["egress"])
def egress_review(request_id: PathId, body: Review, home: HomeDep,
                  actor: Annotated[Actor, Depends(allow(Role.REVIEWER))]) -> dict[str, Any]:
    """Vote (blind until all votes are in); the last approval needed signs the release."""
    with home.store.transaction() as session:
        req = egress_review_module.vote(
            session, actor, home.policy, home.data, home.signer, request_id, body.decision,
            body.comment, body.private_comment,
            {k: v.model_dump() for k, v in body.checklist.items()}, body.overrides)
        return egress_requests.view(req, actor)


@router.get("/products", tags=["egress"])
def product_list(home: HomeDep,
                 actor: Annotated[Actor, Depends(allow(Role.MERCHANT, Role.REVIEWER,
                                                       Role.ADMIN))]) -> list[dict[str, Any]]:
    """Released products with their registration numbers and their sources'."""
    with home.store.read() as session:
        return egress_requests.products(session, actor)


@router.get("/releases", tags=["egress"])
def release_list(home: HomeDep,
                 actor: Annotated[Actor, Depends(allow(Role.MERCHANT, Role.REVIEWER,
                                                       Role.ADMIN))]) -> list[dict[str, Any]]:
    with home.store.read() as session:
        return [r.as_dict() for r in egress_requests.list_releases(session, actor)]


@router.get("/releases/{release_id}/bundle", tags=["egress"])
def release_download(release_id: PathId, home: HomeDep,
                     actor: Annotated[Actor, Depends(allow(Role.MERCHANT))]) -> StreamingResponse:
    """The signed bundle as a zip: only for the requesting organization; each download logged."""
    with home.store.transaction() as session:
        directory = egress_requests.download(session, actor, home.data, release_id)
    return StreamingResponse(zipped(directory), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{directory.name}.zip"'})


# -- ledger --------------------------------------------------------------------------------

@router.get("/ledger/verify", tags=["ledger"])
def ledger_verify(home: HomeDep,
                  _actor: Annotated[Actor, Depends(allow(Role.ADMIN))]) -> dict[str, Any]:
    with home.store.read() as session:
        return verify_ledger(session, home.genesis_public_key, home.witness_path,
                             home.origin).as_dict()


@router.get("/ledger/events", tags=["ledger"])
def ledger_events(home: HomeDep, _actor: Annotated[Actor, Depends(allow(Role.ADMIN))],
                  actor: str | None = None, action: str | None = None,
                  subject: str | None = None, since: str | None = None,
                  until: str | None = None, before: QueryId = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Audit search, newest first, each event with its verification status; page with
    ``before`` = the previous page's ``next_before``."""
    with home.store.read() as session:
        return audit.search(session, actor=actor, action=action, subject=subject, since=since,
                            until=until, before_seq=before, limit=limit)


@router.get("/lineage/{node}", tags=["ledger"], response_model=None)
def lineage_show(node: str, home: HomeDep,
                 _actor: Annotated[Actor, Depends(allow(Role.ADMIN))],
                 direction: Literal["up", "down", "both"] = "both",
                 format: Literal["json", "svg", "dot"] = "json") -> Response | dict[str, Any]:
    """Lineage of a dataset (dataset:NAME), dataset version, job, output, egress request or
    release, as JSON, Graphviz DOT or an SVG picture."""
    with home.store.read() as session:
        part = graph.neighbourhood(graph.build(session), node, direction)
    if format == "svg":
        return Response(graph.to_svg(part), media_type="image/svg+xml")
    if format == "dot":
        return Response(graph.to_dot(part), media_type="text/vnd.graphviz")
    return part.as_dict()


@router.get("/ledger/proof/{seq}", tags=["ledger"])
def ledger_proof(seq: PathId, home: HomeDep,
                 _actor: Annotated[Actor, Depends(allow(Role.ADMIN))]) -> dict[str, Any]:
    """Inclusion proof of one event against the latest signed checkpoint."""
    with home.store.read() as session:
        return proofs.inclusion(session, seq, archive_dir=home.ledger_archives())


@router.get("/ledger/consistency", tags=["ledger"])
def ledger_consistency(old: Annotated[int, Query(ge=1, le=MAX_ID)], home: HomeDep,
                       _actor: Annotated[Actor, Depends(allow(Role.ADMIN))],
                       new: QueryId = None) -> dict[str, Any]:
    """Consistency proof between two signed checkpoints (``new`` default: the latest)."""
    with home.store.read() as session:
        return proofs.consistency(session, old, new)
