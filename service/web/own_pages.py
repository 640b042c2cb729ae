"""The merchant's own tables in the workspace console: upload and delete (sandbox.own_data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import Response

from actions import own_data as own_actions
from catalog.errors import InvalidInput
from policies.errors import DomainError
from policies.permissions import Action
from service.api.params import PathId
from service.uploads import own_upload
from service.web.base import Form, Member, back, context, member
from service.web.i18n import Said
from service.web.work_pages import workspace_view

router = APIRouter(include_in_schema=False)


@router.post("/workspace/{grant_id}/own-data", response_model=None)
def own_submit(request: Request, grant_id: PathId, background: BackgroundTasks,
               m: Annotated[Member, Depends(member(Action.JOB_SUBMIT))], form: Form) -> Response:
    name = str(form.get("name", "")).strip()[:100]
    person_key = str(form.get("person_key", "")).strip()[:200]
    upload = form.get("file")
    try:
        if upload is None or isinstance(upload, str):
            raise InvalidInput("choose a Parquet or CSV file to upload")
        own_upload(context(request, m, background), grant_id, upload.file, upload.filename,
                   name, person_key or None)
    except DomainError as exc:
        return workspace_view(request, m, grant_id, own_error=Said(exc),
                              own_form={"name": name, "person_key": person_key}, status=422)
    return back(f"/workspace/{grant_id}", "own_uploaded")


@router.post("/own-data/{own_id}/delete", response_model=None)
def own_delete(request: Request, own_id: PathId,
               m: Annotated[Member, Depends(member(Action.JOB_SUBMIT))]) -> Response:
    own = own_actions.delete(context(request, m), own_id)
    return back(f"/workspace/{own['grant_id']}", "own_deleted")
