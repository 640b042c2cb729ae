"""/api/v1 applications and grants."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from actions import Context, sweeps, views
from actions import applications as application_actions
from catalog.applications import Request
from catalog.errors import InvalidInput
from policies.permissions import Action
from service.api.params import PathId
from service.api.routes.deps import acting

router = APIRouter(tags=["applications"])


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


def _request(body: NewApplication) -> Request:
    return Request(body.scenario, body.description, body.purpose, body.products, body.months,
                   body.abroad, [i.model_dump() for i in body.items])


@router.post("/applications", status_code=201)
def application_submit(body: NewApplication,
                       ctx: Annotated[Context, Depends(acting(Action.APPLICATION_SUBMIT))]
                       ) -> views.ApplicationView:
    return application_actions.submit(ctx, _request(body))


@router.post("/applications/{application_id}/amend")
def application_amend(application_id: PathId, body: NewApplication,
                      ctx: Annotated[Context, Depends(acting(Action.APPLICATION_SUBMIT))]
                      ) -> views.ApplicationView:
    """Resubmit an application a reviewer returned for amendment (退回补正)."""
    return application_actions.amend(ctx, application_id, _request(body))


@router.post("/applications/{application_id}/withdraw")
def application_withdraw(application_id: PathId,
                         ctx: Annotated[Context, Depends(acting(Action.APPLICATION_SUBMIT))]
                         ) -> views.ApplicationView:
    return application_actions.withdraw(ctx, application_id)


@router.get("/applications")
def application_list(ctx: Annotated[Context, Depends(acting(Action.APPLICATION_READ))],
                     status: str | None = None) -> list[views.ApplicationView]:
    return application_actions.search(ctx, status)


@router.get("/applications/{application_id}")
def application_detail(application_id: PathId,
                       ctx: Annotated[Context, Depends(acting(Action.APPLICATION_READ))]
                       ) -> views.ApplicationView:
    return application_actions.show(ctx, application_id)


class Decision(BaseModel):
    decision: Literal["approve", "reject", "return"] | None = Field(
        None, description="return: back to the merchant for amendment (退回补正)")
    approve: bool | None = Field(None, description="the older form of approve/reject")
    comment: str = ""


@router.post("/applications/{application_id}/decision")
def application_decide(application_id: PathId, body: Decision,
                       ctx: Annotated[Context, Depends(acting(Action.APPLICATION_DECIDE))]
                       ) -> views.ApplicationView:
    decision = body.decision if body.decision is not None else body.approve
    if decision is None:
        raise InvalidInput("give a decision: approve, reject or return")
    return application_actions.decide(ctx, application_id, decision, body.comment)


@router.post("/applications/sweep")
def application_sweep(ctx: Annotated[Context, Depends(acting(Action.SWEEP))]
                      ) -> views.SweepView:
    """Apply the overdue action to late applications and end expired grants."""
    done = sweeps.overdue(ctx)
    done["expired_grants"] = sweeps.expired_grants(ctx)
    return done


@router.get("/grants")
def grant_list(ctx: Annotated[Context, Depends(acting(Action.GRANT_READ))]
               ) -> list[views.GrantView]:
    return application_actions.grants(ctx)


class Revocation(BaseModel):
    reason: str


@router.post("/grants/{grant_id}/revoke")
def grant_revoke(grant_id: PathId, body: Revocation,
                 ctx: Annotated[Context, Depends(acting(Action.GRANT_REVOKE))]
                 ) -> views.GrantView:
    return application_actions.revoke(ctx, grant_id, body.reason)
