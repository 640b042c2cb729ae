"""/api/v1 egress requests, reviews, products and releases."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from actions import Context, views
from actions import egress as egress_actions
from policies.permissions import Action
from service.api.params import BodyId, PathId
from service.api.routes.deps import acting
from service.downloads import downloaded

router = APIRouter(tags=["egress"])
Mitigation = Literal["none", "suppress", "round", "suppress+round"]
Reader = Annotated[Context, Depends(acting(Action.EGRESS_READ))]
Requester = Annotated[Context, Depends(acting(Action.EGRESS_REQUEST))]


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
    context: str = Field("", description="for reviewers: what the output is and shows")
    controls: str = Field("", description="for reviewers: disclosure controls applied to it")


@router.post("/egress", status_code=201, response_model_exclude_unset=True)
def egress_request(body: NewEgress, ctx: Requester) -> views.EgressView:
    """Request release of a job's output; the automatic checks run at once."""
    return egress_actions.request(ctx, egress_actions.Ask(
        body.job_id, body.product, body.purpose, body.sources, body.abroad, body.exceptions,
        body.mitigation, body.draft, body.context, body.controls))


@router.get("/egress", response_model_exclude_unset=True)
def egress_list(ctx: Reader, status: str | None = None) -> list[views.EgressView]:
    return egress_actions.search(ctx, status)


@router.get("/egress/{request_id}", response_model_exclude_unset=True)
def egress_detail(request_id: PathId, ctx: Reader) -> views.EgressView:
    return egress_actions.show(ctx, request_id)


@router.get("/egress/{request_id}/values")
def egress_values(request_id: PathId,
                  ctx: Annotated[Context, Depends(acting(Action.EGRESS_VALUES))],
                  offset: Annotated[int, Query(ge=0)] = 0,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50,
                  flagged_only: bool = False) -> dict[str, Any]:
    """A page of the values of the output a request would release, each row with the flagged
    cells' rules and group-key label: for reviewers of other organizations and admins."""
    return egress_actions.output_values(ctx, request_id, offset, limit, flagged_only)


class Resubmit(BaseModel):
    job_id: BodyId | None = None
    exceptions: dict[str, str] | None = None
    mitigation: Mitigation | None = None
    comment: str = ""
    context: str | None = None
    controls: str | None = None


@router.post("/egress/{request_id}/resubmit", response_model_exclude_unset=True)
def egress_resubmit(request_id: PathId, body: Resubmit, ctx: Requester) -> views.EgressView:
    """Submit a draft, answer a return, or update a request under review (votes reset)."""
    return egress_actions.resubmit(ctx, request_id, egress_actions.Change(
        body.job_id, body.exceptions, body.mitigation, body.comment, body.context,
        body.controls))


class Withdraw(BaseModel):
    reason: str = ""


@router.post("/egress/{request_id}/withdraw", response_model_exclude_unset=True)
def egress_withdraw(request_id: PathId, body: Withdraw, ctx: Requester) -> views.EgressView:
    return egress_actions.withdraw(ctx, request_id, body.reason)


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


@router.post("/egress/{request_id}/review", response_model_exclude_unset=True)
def egress_review(request_id: PathId, body: Review,
                  ctx: Annotated[Context, Depends(acting(Action.EGRESS_REVIEW))]
                  ) -> views.EgressView:
    """Vote (blind until all votes are in); the last approval needed signs the release."""
    return egress_actions.vote(ctx, request_id, egress_actions.Ballot(
        body.decision, body.comment, body.private_comment,
        {k: v.model_dump() for k, v in body.checklist.items()}, body.overrides))


@router.get("/products")
def product_list(ctx: Annotated[Context, Depends(acting(Action.RELEASE_READ))]
                 ) -> list[views.ProductView]:
    """Released products with their registration numbers and their sources'."""
    return egress_actions.products(ctx)


@router.get("/releases")
def release_list(ctx: Annotated[Context, Depends(acting(Action.RELEASE_READ))]
                 ) -> list[views.ReleaseView]:
    return egress_actions.releases(ctx)


@router.get("/releases/{release_id}/bundle")
def release_download(release_id: PathId,
                     ctx: Annotated[Context, Depends(acting(Action.RELEASE_DOWNLOAD))],
                     format: Literal["bundle", "csv", "xlsx"] = "bundle") -> Response:
    """The signed bundle as a zip, or its table as CSV or XLSX (``format``): only for the
    requesting organization; each download logged."""
    return downloaded(egress_actions.download(ctx, release_id, format), format)


@router.get("/releases/{release_id}/table")
def release_table(release_id: PathId,
                  ctx: Annotated[Context, Depends(acting(Action.RELEASE_READ))],
                  offset: Annotated[int, Query(ge=0)] = 0,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    """A page of the released table: columns, rows, offset and total."""
    return egress_actions.table(ctx, release_id, offset, limit)
