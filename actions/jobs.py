"""Job actions: submit SQL to a grant's workspace, wait, read, cancel; security alerts."""

from __future__ import annotations

import time
from typing import Any

from actions.context import Context
from actions.views import AlertView, JobView, PrivacyBudgetView
from catalog import applications
from policies.permissions import Action, permit
from sandbox import budget, dp_jobs, jobs, visibility
from sandbox.models import Job


def _shown(ctx: Context, job: Job) -> dict[str, Any]:
    """``job`` as the context's actor may read it, checked against its view."""
    return JobView.of(visibility.shown(ctx.policy, job, ctx.actor))


def submit(ctx: Context, grant_id: int, sql: str, output_name: str,
           target: str = "real") -> dict[str, Any]:
    """Queue a job; the dispatcher wakes whatever runs jobs once it is committed."""
    permit(ctx.actor, Action.JOB_SUBMIT)
    with ctx.transaction() as session:
        job = jobs.submit(session, ctx.actor, ctx.policy, ctx.data, grant_id, sql, output_name,
                          target)
        shown = _shown(ctx, job)
    ctx.dispatcher.wake()
    return shown


def submit_dp(ctx: Context, grant_id: int, spec: dict[str, Any], output_name: str,
              target: str = "real") -> dict[str, Any]:
    """Queue a differentially private job (:mod:`sandbox.dp`); on real data it spends its
    epsilon of the grant's budget."""
    permit(ctx.actor, Action.JOB_SUBMIT)
    with ctx.transaction() as session:
        job = dp_jobs.submit(session, ctx.actor, ctx.policy, ctx.data, grant_id, spec,
                             output_name, target)
        shown = _shown(ctx, job)
    ctx.dispatcher.wake()
    return shown


def privacy_budget(ctx: Context, grant_id: int) -> dict[str, Any]:
    """The grant's budget of epsilon, what its DP jobs spent and what is left."""
    permit(ctx.actor, Action.GRANT_READ)
    with ctx.read() as session:
        grant = applications.get_grant(session, ctx.actor, grant_id)
        return PrivacyBudgetView.of(dp_jobs.status(session, ctx.policy, grant))


def wait(ctx: Context, job_id: int, timeout: float | None = None) -> dict[str, Any]:
    """Run a queued job here (or wait for the worker that took it) and return it once its
    outcome shows: a real job's at its rounded duration (:mod:`sandbox.visibility`)."""
    permit(ctx.actor, Action.JOB_READ)
    with ctx.read() as session:
        jobs.get(session, ctx.actor, job_id)  # the actor's own job, or a clear refusal
    finished = ctx.keys.run_job(job_id, timeout)
    time.sleep(visibility.seconds_until_shown(ctx.policy, finished))
    return show(ctx, job_id)


def search(ctx: Context, grant_id: int | None = None,
           status: str | None = None) -> list[dict[str, Any]]:
    permit(ctx.actor, Action.JOB_READ)
    with ctx.read() as session:
        return [_shown(ctx, j) for j in jobs.list_jobs(session, ctx.actor, grant_id, status)]


def summary(ctx: Context, job_id: int) -> dict[str, Any]:
    """A job as the actor may read it, without rows."""
    permit(ctx.actor, Action.JOB_READ)
    with ctx.read() as session:
        return _shown(ctx, jobs.get(session, ctx.actor, job_id))


def show(ctx: Context, job_id: int) -> dict[str, Any]:
    """A job as the actor may read it; a simulated job with its first rows."""
    permit(ctx.actor, Action.JOB_READ)
    with ctx.read(autocommit=True) as session:
        return JobView.of(jobs.view(ctx.data, ctx.policy, jobs.get(session, ctx.actor, job_id),
                                    ctx.actor))


def keep(ctx: Context, job_id: int, name: str) -> dict[str, Any]:
    """Name a simulated draft so that later jobs read it by that name."""
    permit(ctx.actor, Action.JOB_SUBMIT)
    with ctx.transaction() as session:
        return _shown(ctx, jobs.keep(session, ctx.actor, ctx.policy, job_id, name))


def cancel(ctx: Context, job_id: int) -> dict[str, Any]:
    """Cancel a queued job, or ask the worker running it to stop it."""
    permit(ctx.actor, Action.JOB_CANCEL)
    with ctx.transaction() as session:
        return _shown(ctx, jobs.cancel(session, ctx.actor, job_id))


def alerts(ctx: Context, open_only: bool = False) -> list[dict[str, Any]]:
    """Security alerts, newest first."""
    permit(ctx.actor, Action.ALERT_MANAGE)
    with ctx.read() as session:
        return [AlertView.of(a.as_dict())
                for a in budget.list_alerts(session, ctx.actor, open_only)]


def acknowledge(ctx: Context, alert_id: int) -> dict[str, Any]:
    permit(ctx.actor, Action.ALERT_MANAGE)
    with ctx.transaction() as session:
        return AlertView.of(budget.acknowledge(session, ctx.actor, alert_id).as_dict())
