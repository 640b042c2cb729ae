"""/api/v1 consent records of datasets used with their subjects' consent (PIPL Art. 13-16)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from pydantic import BaseModel, Field

from actions import Context, views
from actions import consent as consent_actions
from policies.permissions import Action
from service.api.routes.deps import acting
from service.uploads import consent_upload

router = APIRouter(tags=["consent"])
Manager = Annotated[Context, Depends(acting(Action.CONSENT_MANAGE))]
Reader = Annotated[Context, Depends(acting(Action.CONSENT_READ))]


class Required(BaseModel):
    required: bool = Field(description="real jobs see only consenting persons' rows")


class Consent(BaseModel):
    subject: str = Field(max_length=200, description="the value of the dataset's person key")
    columns: list[str] | None = Field(None, description="the consent's scope (none: all)")
    given_on: str | None = Field(None, description="YYYY-MM-DD (default today)")
    expires_on: str | None = Field(None, description="YYYY-MM-DD (none: until withdrawn)")
    reference: str = ""


class Consents(BaseModel):
    consents: list[Consent] = Field(min_length=1, max_length=10_000)


class Withdrawal(BaseModel):
    subjects: list[str] = Field(default_factory=list, max_length=10_000,
                                description="person key values")
    ids: list[int] = Field(default_factory=list, max_length=10_000,
                           description="consent record ids")


@router.get("/datasets/{name}/consent")
def consent_summary(name: str, ctx: Reader) -> views.ConsentSummary:
    """Whether the dataset is used with consent, and its consents counted per status."""
    return consent_actions.summary(ctx, name)


@router.put("/datasets/{name}/consent")
def consent_require(name: str, body: Required, ctx: Manager) -> views.ConsentSummary:
    """Use the dataset with consent (or stop): from the next job on, real jobs see only the rows
    of persons whose consent is in force and covers the granted columns."""
    return consent_actions.require(ctx, name, body.required)


@router.get("/datasets/{name}/consents")
def consent_list(name: str, ctx: Reader,
                 status: Literal["active", "future", "expired", "withdrawn",
                                 "superseded"] | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 before: Annotated[int | None, Query(ge=1)] = None
                 ) -> list[views.ConsentView]:
    """Consent records, newest first; a person appears as 12 characters of a keyed digest."""
    return consent_actions.search(ctx, name, status, limit, before)


@router.post("/datasets/{name}/consents", status_code=201)
def consent_record(name: str, body: Consents, ctx: Manager) -> views.ConsentChange:
    """File consents; a person's newer consent replaces theirs. One bad record refuses all."""
    return consent_actions.record(ctx, name, [c.model_dump() for c in body.consents])


@router.post("/datasets/{name}/consents/file", status_code=201)
def consent_record_file(name: str, ctx: Manager,
                        file: Annotated[UploadFile, File()]) -> views.ConsentChange:
    """File the consents of a CSV (UTF-8 or GB18030) or Parquet file with the columns subject,
    columns, given_on, expires_on, reference."""
    return consent_upload(ctx, name, file.file, file.filename)


@router.post("/datasets/{name}/consents/withdrawal")
def consent_withdraw(name: str, body: Withdrawal, ctx: Manager) -> views.ConsentChange:
    """End consents by the persons' key values or the records' ids."""
    return consent_actions.withdraw(ctx, name, body.subjects, body.ids)
