"""/api/v1 qualification of operating organizations (Measures Art. 20-21)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from actions import Context, views
from actions import qualification as qualification_actions
from policies.permissions import Action
from service.api.params import PathId
from service.api.routes.deps import acting

router = APIRouter(tags=["qualification"])


class Conditions(BaseModel):
    good_standing: str = Field(description="good standing; no major violations or "
                                           "dishonesty listings (Art. 21(1))")
    capability: str = Field(description="offices, team and technical capacity (Art. 21(2))")
    security_management: str = Field(description="data security officer, department and "
                                                 "rules (Art. 21(3))")
    data_management: str = Field(description="data management and security capability "
                                             "(Art. 21(4))")


class Application(BaseModel):
    credit_code: str = Field(max_length=18, description="unified social credit code (GB 32100)")
    legal_representative: str
    security_officer: str = Field(description="the data security officer (数据安全负责人)")
    conditions: Conditions


class Review(BaseModel):
    decision: Literal["approve", "reject"]
    comment: str = Field("", description="required to reject")


@router.post("/qualifications", status_code=201)
def qualification_apply(body: Application,
                        ctx: Annotated[Context, Depends(acting(Action.QUALIFICATION_APPLY))]
                        ) -> views.QualificationView:
    """Apply for the organization's qualification as an operator; an administrator reviews
    it, then it is publicly noticed for the policy's days before it takes effect."""
    return qualification_actions.apply(ctx, body.credit_code, body.legal_representative,
                                       body.security_officer, body.conditions.model_dump())


@router.get("/qualifications")
def qualification_list(ctx: Annotated[Context, Depends(acting(Action.QUALIFICATION_READ))],
                       status: Literal["submitted", "in_notice", "qualified",
                                       "rejected"] | None = None
                       ) -> list[views.QualificationView]:
    return qualification_actions.search(ctx, status)


@router.get("/qualifications/{qualification_id}")
def qualification_detail(qualification_id: PathId,
                         ctx: Annotated[Context, Depends(acting(Action.QUALIFICATION_READ))]
                         ) -> views.QualificationView:
    return qualification_actions.show(ctx, qualification_id)


@router.post("/qualifications/{qualification_id}/review")
def qualification_review(qualification_id: PathId, body: Review,
                         ctx: Annotated[Context, Depends(acting(Action.QUALIFICATION_REVIEW))]
                         ) -> views.QualificationView:
    """Approve into public notice, or reject (during the notice too, on an objection)."""
    return qualification_actions.review(ctx, qualification_id, body.decision == "approve",
                                        body.comment)
