"""/api/v1 jobs and security alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel

from actions import Context, views
from actions import jobs as job_actions
from actions import own_data as own_actions
from policies.permissions import Action
from service.api.params import BodyId, PathId, QueryId
from service.api.routes.deps import acting
from service.uploads import own_upload

router = APIRouter(tags=["jobs"])


class NewJob(BaseModel):
    grant_id: BodyId
    sql: str
    output_name: str = ""  # a simulated run may leave it out: its output is a draft
    target: str = "real"


class NewDPJob(BaseModel):
    grant_id: BodyId
    spec: dict[str, Any]  # table, by, measures, epsilon, contributions, where (sandbox.dp)
    output_name: str
    target: str = "real"


class Kept(BaseModel):
    output_name: str


@router.post("/jobs", status_code=202, response_model_exclude_unset=True)
def job_submit(body: NewJob, ctx: Annotated[Context, Depends(acting(Action.JOB_SUBMIT))]
               ) -> views.JobView:
    """Queue a job; poll GET /jobs/{id} for its status (real outputs show no rows, simulated
    ones show their first rows)."""
    return job_actions.submit(ctx, body.grant_id, body.sql, body.output_name, body.target)


@router.post("/jobs/dp", status_code=202, response_model_exclude_unset=True)
def job_submit_dp(body: NewDPJob, ctx: Annotated[Context, Depends(acting(Action.JOB_SUBMIT))]
                  ) -> views.JobView:
    """Queue a differentially private job: counts, sums, means and quantiles per group of one
    granted dataset, with OpenDP noise. On real data it spends its epsilon of the grant's
    budget (GET /grants/{id}/privacy-budget) and is refused when the budget is spent."""
    return job_actions.submit_dp(ctx, body.grant_id, body.spec, body.output_name, body.target)


@router.get("/grants/{grant_id}/privacy-budget")
def privacy_budget(grant_id: PathId, ctx: Annotated[Context, Depends(acting(Action.GRANT_READ))]
                   ) -> views.PrivacyBudgetView:
    """The grant's epsilon for DP jobs on real data: budget (by level), spent, remaining."""
    return job_actions.privacy_budget(ctx, grant_id)


@router.post("/grants/{grant_id}/own-data", status_code=201)
def own_data_upload(grant_id: PathId,
                    ctx: Annotated[Context, Depends(acting(Action.JOB_SUBMIT))],
                    file: Annotated[UploadFile, File()], name: Annotated[str, Form()],
                    person_key: Annotated[str, Form(description="the column naming each "
                                                    "row's person (empty: each row)")] = ""
                    ) -> views.OwnDataView:
    """Upload the merchant's own Parquet or CSV table into the grant's workspace: scanned (a
    column of refused PII refuses the file), joined by jobs on both targets (simulated: its
    preview), released only through egress, deleted with the workspace."""
    return own_upload(ctx, grant_id, file.file, file.filename, name, person_key or None)


@router.get("/grants/{grant_id}/own-data")
def own_data_list(grant_id: PathId, ctx: Annotated[Context, Depends(acting(Action.JOB_READ))]
                  ) -> list[views.OwnDataView]:
    return own_actions.listing(ctx, grant_id)


@router.delete("/own-data/{own_id}")
def own_data_delete(own_id: PathId, ctx: Annotated[Context, Depends(acting(Action.JOB_SUBMIT))]
                    ) -> views.OwnDataView:
    """Delete an own table now (its files go; the ledger keeps the record)."""
    return own_actions.delete(ctx, own_id)


@router.get("/jobs", response_model_exclude_unset=True)
def job_list(ctx: Annotated[Context, Depends(acting(Action.JOB_READ))],
             grant_id: QueryId = None, status: str | None = None) -> list[views.JobView]:
    return job_actions.search(ctx, grant_id, status)


@router.get("/jobs/{job_id}", response_model_exclude_unset=True)
def job_detail(job_id: PathId, ctx: Annotated[Context, Depends(acting(Action.JOB_READ))]
               ) -> views.JobView:
    return job_actions.show(ctx, job_id)


@router.post("/jobs/{job_id}/keep", response_model_exclude_unset=True)
def job_keep(job_id: PathId, body: Kept,
             ctx: Annotated[Context, Depends(acting(Action.JOB_SUBMIT))]) -> views.JobView:
    """Name a simulated draft (a run submitted without a name) so later jobs read it."""
    return job_actions.keep(ctx, job_id, body.output_name)


@router.post("/jobs/{job_id}/cancel", response_model_exclude_unset=True)
def job_cancel(job_id: PathId, ctx: Annotated[Context, Depends(acting(Action.JOB_CANCEL))]
               ) -> views.JobView:
    """Cancel a queued job, or ask the worker running it to stop it."""
    return job_actions.cancel(ctx, job_id)


@router.get("/alerts")
def alert_list(ctx: Annotated[Context, Depends(acting(Action.ALERT_MANAGE))],
               open_only: bool = False) -> list[views.AlertView]:
    """Security alerts, newest first: a grant's daily budget of real-data jobs spent, jobs
    that differ only in their literals, or repeated failures (probing)."""
    return job_actions.alerts(ctx, open_only)


@router.post("/alerts/{alert_id}/ack")
def alert_ack(alert_id: PathId, ctx: Annotated[Context, Depends(acting(Action.ALERT_MANAGE))]
              ) -> views.AlertView:
    return job_actions.acknowledge(ctx, alert_id)
