"""/api/v1 catalog: datasets, their registration, classification and simulated previews."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel, Field

from actions import Context, views
from actions import catalog as catalog_actions
from catalog.datasets import Registration
from policies.permissions import Action
from service.api.routes.deps import acting
from service.uploads import parse_field_names, register_upload

router = APIRouter(tags=["catalog"])
Reader = Annotated[Context, Depends(acting(Action.DATASET_READ))]


@router.get("/datasets", response_model_exclude_unset=True)
def dataset_list(ctx: Reader, domain: str | None = None, level: str | None = None,
                 attribute: str | None = None,
                 q: Annotated[str | None, Query(max_length=100,
                                                description="words every dataset found "
                                                            "holds: title, description, "
                                                            "department, column or field "
                                                            "names, number")] = None
                 ) -> list[views.DatasetView]:
    return catalog_actions.search(ctx, domain, level, attribute, q)


@router.get("/datasets/{name}", response_model_exclude_unset=True)
def dataset_detail(name: str, ctx: Reader) -> views.DatasetView:
    return catalog_actions.show(ctx, name)


@router.post("/datasets", status_code=201, response_model_exclude_unset=True)
def dataset_register(
    ctx: Annotated[Context, Depends(acting(Action.DATASET_REGISTER))],
    file: Annotated[UploadFile, File()], name: Annotated[str, Form()],
    title: Annotated[str, Form()], domain: Annotated[str, Form()],
    level: Annotated[str, Form()], attribute: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
    department: Annotated[str, Form(description="the providing department (数源部门)")] = "",
    update_frequency: Annotated[str, Form()] = "irregular",
    field_names: Annotated[str, Form(description="JSON object: column -> Chinese field "
                                                 "name")] = "",
) -> views.DatasetView:
    """Upload and register a Parquet or CSV file (streamed to disk within the policy's limit);
    its simulated preview is built after the response."""
    return register_upload(ctx, file.file, file.filename,
                           Registration(name, title, domain, level, attribute, description,
                                        department, update_frequency,
                                        parse_field_names(field_names)))


@router.get("/datasets/{name}/preview")
def dataset_preview(name: str, ctx: Reader,
                    rows: Annotated[int, Query(ge=1, le=10_000)] = 20) -> dict[str, Any]:
    """The simulated preview of the latest version, labelled, with its report."""
    return catalog_actions.preview(ctx, name, rows)


class Classification(BaseModel):
    entities: dict[str, str | None] = Field(default_factory=dict,
                                            description="column -> entity type, or null: none")
    quasi_identifiers: list[str] | None = None
    confidential: list[str] | None = None
    level: str | None = None
    person_key: str | None = Field(None, description="the column naming each contributor (a "
                                   "person or enterprise); \"\": none, each row one contributor")
    field_names: dict[str, str] | None = Field(None, description="column -> Chinese field "
                                               "name; \"\" removes one")


@router.post("/datasets/{name}/classification", response_model_exclude_unset=True)
def dataset_classify(name: str, body: Classification,
                     ctx: Annotated[Context, Depends(acting(Action.DATASET_CLASSIFY))]
                     ) -> views.DatasetView:
    """Confirm the latest version's column classification, overriding the scan's suggestions."""
    return catalog_actions.classify(ctx, name, catalog_actions.Classification(
        body.entities, body.quasi_identifiers, body.confidential, body.level, body.person_key,
        body.field_names))
