"""/api/v1 data-quality issues (Measures Art. 14)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from actions import Context, views
from actions import quality as quality_actions
from policies.permissions import Action
from service.api.params import PathId
from service.api.routes.deps import acting

router = APIRouter(tags=["quality"])


class NewIssue(BaseModel):
    dataset: str
    kind: Literal["missing_values", "wrong_values", "inconsistent", "outdated", "schema", "other"]
    columns: list[str] = Field(default_factory=list, description="the columns concerned")
    description: str
    version: int | None = Field(None, description="the version reported on (default: latest)")


class Answer(BaseModel):
    decision: Literal["acknowledge", "reject"]
    reply: str


class Fix(BaseModel):
    version: int = Field(description="the dataset version that fixes the issue")
    reply: str = ""


@router.post("/quality", status_code=201)
def quality_report(body: NewIssue,
                   ctx: Annotated[Context, Depends(acting(Action.QUALITY_REPORT))]
                   ) -> views.QualityIssueView:
    """Report a data-quality issue on a dataset version; the providing department answers
    within the policy's working days."""
    return quality_actions.report(ctx, body.dataset, body.kind, body.columns, body.description,
                                  body.version)


@router.get("/quality")
def quality_list(ctx: Annotated[Context, Depends(acting(Action.QUALITY_READ))],
                 status: str | None = None,
                 dataset: str | None = None) -> list[views.QualityIssueView]:
    return quality_actions.search(ctx, status, dataset)


@router.get("/quality/{issue_id}")
def quality_detail(issue_id: PathId,
                   ctx: Annotated[Context, Depends(acting(Action.QUALITY_READ))]
                   ) -> views.QualityIssueView:
    return quality_actions.show(ctx, issue_id)


@router.post("/quality/{issue_id}/answer")
def quality_answer(issue_id: PathId, body: Answer,
                   ctx: Annotated[Context, Depends(acting(Action.QUALITY_ANSWER))]
                   ) -> views.QualityIssueView:
    return quality_actions.answer(ctx, issue_id, body.decision, body.reply)


@router.post("/quality/{issue_id}/fix")
def quality_fix(issue_id: PathId, body: Fix,
                ctx: Annotated[Context, Depends(acting(Action.QUALITY_ANSWER))]
                ) -> views.QualityIssueView:
    return quality_actions.fix(ctx, issue_id, body.version, body.reply)
