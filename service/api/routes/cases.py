"""/api/v1 appeals, complaints and security incidents."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from actions import Context, views
from actions import cases as case_actions
from policies.permissions import Action
from service.api.params import PathId
from service.api.routes.deps import acting

router = APIRouter(tags=["cases"])


class NewCase(BaseModel):
    kind: Literal["appeal", "complaint", "incident"]
    title: str
    description: str
    subject: str = Field("", description="an appeal's rejected application: application:ID")
    severity: Literal["", "low", "medium", "high", "critical"] = Field(
        "", description="an incident's severity")


class Response_(BaseModel):
    response: str


class Resolution(BaseModel):
    outcome: Literal["uphold", "dismiss", "resolve"] = Field(
        description="appeals and complaints: uphold or dismiss; incidents: resolve")
    resolution: str


@router.post("/cases", status_code=201)
def case_open(body: NewCase, ctx: Annotated[Context, Depends(acting(Action.CASE_OPEN))]
              ) -> views.CaseView:
    """Open an appeal, a complaint or a security incident report; the platform responds and
    resolves it within the policy's working days."""
    return case_actions.open_case(ctx, body.kind, body.title, body.description, body.subject,
                                  body.severity)


@router.get("/cases")
def case_list(ctx: Annotated[Context, Depends(acting(Action.CASE_READ))],
              status: str | None = None) -> list[views.CaseView]:
    return case_actions.search(ctx, status)


@router.get("/cases/{case_id}")
def case_detail(case_id: PathId, ctx: Annotated[Context, Depends(acting(Action.CASE_READ))]
                ) -> views.CaseView:
    return case_actions.show(ctx, case_id)


@router.post("/cases/{case_id}/response")
def case_respond(case_id: PathId, body: Response_,
                 ctx: Annotated[Context, Depends(acting(Action.CASE_HANDLE))]) -> views.CaseView:
    return case_actions.respond(ctx, case_id, body.response)


@router.post("/cases/{case_id}/resolution")
def case_resolve(case_id: PathId, body: Resolution,
                 ctx: Annotated[Context, Depends(acting(Action.CASE_HANDLE))]) -> views.CaseView:
    """Close a case; an upheld appeal sends its application back to review."""
    return case_actions.resolve(ctx, case_id, body.outcome, body.resolution)
