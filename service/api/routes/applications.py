"""/api/v1 applications and grants."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from actions import Context, sweeps, views
from actions import applications as application_actions
from catalog.applications import Request
from catalog.errors import InvalidInput
from policies.permissions import Action
from service.api.params import PathId
from service.api.routes.deps import acting
from service.downloads import attachment_download

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


@router.get("/applications/to-check")
def application_to_check(ctx: Annotated[Context, Depends(acting(Action.APPLICATION_CHECK))]
                         ) -> list[views.ApplicationView]:
    """Applications with a part the caller's department has still to check."""
    return application_actions.to_check(ctx)


@router.get("/applications/{application_id}")
def application_detail(application_id: PathId,
                       ctx: Annotated[Context, Depends(acting(Action.APPLICATION_READ))]
                       ) -> views.ApplicationView:
    return application_actions.show(ctx, application_id)


class Assessment(BaseModel):
    """Each point rated pass, concern or fail."""

    reasonableness: Literal["pass", "concern", "fail"] = Field(description="合理性")
    compliance: Literal["pass", "concern", "fail"] = Field(description="合规性")
    security: Literal["pass", "concern", "fail"] = Field(description="安全性")


class Decision(BaseModel):
    decision: Literal["approve", "reject", "return"] | None = Field(
        None, description="return: back to the merchant for amendment (退回补正)")
    approve: bool | None = Field(None, description="the older form of approve/reject")
    comment: str = ""
    assessment: Assessment | None = Field(
        None, description="the reviewer's assessment (审核); an approval needs it")


class Check(BaseModel):
    verdict: Literal["agree", "refuse"]
    assessment: Assessment
    comment: str = Field("", description="needed to refuse, or with a point not rated pass")


@router.post("/applications/{application_id}/checks/{dataset}")
def application_check(application_id: PathId, dataset: str, body: Check,
                      ctx: Annotated[Context, Depends(acting(Action.APPLICATION_CHECK))]
                      ) -> views.ApplicationView:
    """The providing department of ``dataset`` agrees to or refuses its part (核查), before
    the platform's reviewer decides."""
    return application_actions.check(ctx, application_id, dataset, body.verdict,
                                     body.assessment.model_dump(), body.comment)


@router.post("/applications/{application_id}/attachments", status_code=201)
def application_attach(
    application_id: PathId,
    ctx: Annotated[Context, Depends(acting(Action.APPLICATION_SUBMIT))],
    file: Annotated[UploadFile, File()],
    kind: Annotated[Literal["letter", "commitment", "other"],
                    Form(description="letter (申请函), commitment (承诺书) or other")],
) -> views.AttachmentView:
    """File a document with an application not yet decided (within the policy's size and
    types); a second letter or commitment replaces the first."""
    return application_actions.attach(ctx, application_id, kind, file.filename or "", file.file)


@router.get("/applications/{application_id}/attachments/{attachment_id}",
            response_class=FileResponse)
def application_attachment(application_id: PathId, attachment_id: PathId,
                           ctx: Annotated[Context, Depends(acting(Action.APPLICATION_READ))]
                           ) -> Response:
    """An attachment's file, for whoever may see the application (checked against its
    SHA-256 first)."""
    path, described = application_actions.attachment_file(ctx, application_id, attachment_id)
    return attachment_download(path, described["filename"])


@router.delete("/applications/{application_id}/attachments/{attachment_id}")
def application_detach(application_id: PathId, attachment_id: PathId,
                       ctx: Annotated[Context, Depends(acting(Action.APPLICATION_SUBMIT))]
                       ) -> views.ApplicationView:
    """Take back a document filed with an application not yet decided."""
    return application_actions.detach(ctx, application_id, attachment_id)


@router.post("/applications/{application_id}/decision")
def application_decide(application_id: PathId, body: Decision,
                       ctx: Annotated[Context, Depends(acting(Action.APPLICATION_DECIDE))]
                       ) -> views.ApplicationView:
    decision = body.decision if body.decision is not None else body.approve
    if decision is None:
        raise InvalidInput("give a decision: approve, reject or return")
    return application_actions.decide(ctx, application_id, decision, body.comment,
                                      body.assessment.model_dump() if body.assessment else None)


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


@router.get("/grants/{grant_id}/agreement")
def grant_agreement(grant_id: PathId,
                    ctx: Annotated[Context, Depends(acting(Action.GRANT_READ))]
                    ) -> views.AgreementView:
    """The grant's operation agreement (格式协议) as filled in, with its SHA-256."""
    return application_actions.agreement(ctx, grant_id)


@router.post("/grants/{grant_id}/agreement/accept")
def grant_agreement_accept(grant_id: PathId,
                           ctx: Annotated[Context, Depends(acting(Action.GRANT_USE))]
                           ) -> views.AgreementView:
    """Accept the agreement: jobs may use the grant from now on."""
    return application_actions.accept_agreement(ctx, grant_id)


class Revocation(BaseModel):
    reason: str


@router.post("/grants/{grant_id}/revoke")
def grant_revoke(grant_id: PathId, body: Revocation,
                 ctx: Annotated[Context, Depends(acting(Action.GRANT_REVOKE))]
                 ) -> views.GrantView:
    return application_actions.revoke(ctx, grant_id, body.reason)
