"""DP jobs in the store: a grant's budget of epsilon, and the submission that spends it.

A grant's budget is the policy's ``dp_epsilon`` of the level of its most sensitive dataset.
Every DP job on real data spends its epsilon when it is submitted, whatever becomes of it
(a failed or cancelled job may still have told something, and a refund would be an oracle),
with a ledger event in the same transaction. A job whose epsilon the budget no longer holds is
refused and changes nothing. Simulated runs spend nothing: the previews hold no real person.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog import applications
from catalog.models import Grant
from catalog.previews import ensure_preview
from lineage import append
from policies import Actor, Policy
from policies.permissions import Action, permit
from sandbox import budget as day_budget
from sandbox import dp, events, gate, jobs
from sandbox.errors import QueryRefused
from sandbox.models import Job
from storage import Storage

# Budgets are compared with this slack: ten jobs of 0.1 spend a budget of 1.0 exactly.
SLACK = 1e-9


def budget(policy: Policy, grant: Grant) -> float:
    """The epsilon ``grant`` may spend in all: its most sensitive dataset's level's."""
    levels = [item.dataset_version.dataset.level for item in grant.items]
    return min((policy.level(level).dp_epsilon for level in levels), default=0.0)


def spent(session: Session, grant_id: int) -> float:
    return float(session.scalar(select(func.coalesce(func.sum(Job.dp_epsilon), 0.0)).where(
        Job.grant_id == grant_id, Job.target == "real", Job.dp_epsilon.is_not(None))) or 0.0)


def status(session: Session, policy: Policy, grant: Grant) -> dict[str, Any]:
    """The grant's budget, what its DP jobs spent and what is left (figures only)."""
    total, used = budget(policy, grant), spent(session, grant.id)
    jobs_spent = [{"job_id": j.id, "output_name": j.output_name, "epsilon": j.dp_epsilon,
                   "status": j.status, "created_at": j.as_dict()["created_at"]}
                  for j in session.scalars(select(Job).where(
                      Job.grant_id == grant.id, Job.target == "real",
                      Job.dp_epsilon.is_not(None)).order_by(Job.id))]
    return {"grant_id": grant.id, "budget": total, "spent": round(used, 9),
            "remaining": round(max(total - used, 0.0), 9),
            "max_epsilon_per_job": policy.privacy.max_epsilon_per_job, "jobs": jobs_spent}


def submit(session: Session, actor: Actor, policy: Policy, data: Storage, grant_id: int,
           raw: dict[str, Any], output_name: str, target: str = "real") -> Job:
    """Queue a DP job: the spec checked against the grant, its keys settled, its mechanisms
    calibrated, and on real data its epsilon taken from the grant's budget."""
    permit(actor, Action.JOB_SUBMIT)
    if target not in jobs.TARGETS:
        raise QueryRefused("target must be one of {targets}", targets=", ".join(jobs.TARGETS))
    spec = dp.parse(raw, policy)
    grant = applications.usable_grant(session, actor, grant_id)
    if target == "real":
        _lock(session, grant)  # two submissions at once cannot both spend the last epsilon
    item = next((i for i in grant.items if i.dataset_version.dataset.name == spec.table), None)
    if item is None:
        raise QueryRefused("a DP job reads one dataset of the grant ({tables}), whose rows "
                           "carry their persons; {table!r} is not one",
                           tables=", ".join(i.dataset_version.dataset.name for i in grant.items),
                           table=spec.table)
    version = item.dataset_version
    dp.check_columns(spec, {c["name"]: str(c["type"]) for c in version.schema},
                     tuple(item.columns), jobs.pseudonymized_columns(policy, item))
    # Without a person key each row is its own person (the catalog says which).
    spec = dataclasses.replace(_keys(spec, data, policy, version),
                               per_person=version.person_key() is not None)
    mechanisms = dp.plan(spec, policy).describe(spec)
    if target == "real":
        left = budget(policy, grant) - spent(session, grant.id)
        if spec.epsilon > left + SLACK:
            raise QueryRefused("the grant's privacy budget has {left:.4g} of epsilon {budget:g} "
                               "left; this DP job asks for {epsilon:g}. Ask for less, or apply "
                               "for a new grant", left=max(left, 0.0),
                               budget=budget(policy, grant), epsilon=spec.epsilon)
    sql = dp.statement(spec, policy.privacy.quantile_candidates)
    if not output_name.strip():
        raise QueryRefused("a DP job needs an output name: egress requests and later jobs "
                           "refer to its output by it")
    visible = jobs.table_names(session, grant, target)
    name = jobs.free_name(session, policy, grant, target, output_name, visible)
    tree = gate.authorize(sql, visible, policy.sandbox, target)
    day_spent = day_budget.before_submit(session, policy, grant) if target == "real" else 0
    document = {"spec": spec.as_dict(), **mechanisms}
    job = Job(grant_id=grant.id, org=grant.org, submitted_by=actor.id, sql=sql, target=target,
              output_name=name, attempts=0, shape=gate.shape(tree),
              sources=jobs.provenance(session, grant, {spec.table}), dp=document,
              dp_epsilon=spec.epsilon if target == "real" else None)
    session.add(job)
    session.flush()
    append(session, actor, events.JOB_QUEUED, f"job:{job.id}", {
        "grant_id": grant.id, "target": target, "output_name": job.output_name,
        "sources": job.sources, "dp_sha256": spec_hash(spec)})
    if target == "real":
        append(session, actor, events.DP_SPENT, f"grant:{grant.id}", {
            "job_id": job.id, "epsilon": _decimal(spec.epsilon),
            "spent": _decimal(spent(session, grant.id)),
            "budget": _decimal(budget(policy, grant))})
        day_budget.after_submit(session, policy, grant, job, day_spent)
    jobs.queued(session, job)
    return job


def _decimal(value: float) -> str:
    return f"{round(value, 9):g}"


def spec_hash(spec: dp.Spec) -> str:
    return hashlib.sha256(json.dumps(spec.as_dict(), sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


def _lock(session: Session, grant: Grant) -> None:
    # SQLite's write transactions begin IMMEDIATE (service.store): they are serialized already.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Grant.id).where(Grant.id == grant.id).with_for_update())


def _keys(spec: dp.Spec, data: Storage, policy: Policy, version: Any) -> dp.Spec:
    """Group columns without keys take the distinct values of the dataset's simulated preview
    (which the merchant has seen): never values read from the real data."""
    missing = [column for column, keys in spec.by if not keys]
    if not missing:
        return spec
    preview = pq.read_table(ensure_preview(data, version, policy.sandbox.placeholder_rows),
                            columns=missing)
    for column in missing:
        values = sorted({str(v) for v in preview.column(column).to_pylist()
                         if v is not None and str(v)})[:policy.privacy.max_cells + 1]
        if not values:
            raise QueryRefused("the simulated preview has no value of {column} to use as keys: "
                               "list its keys", column=column)
        spec = spec.with_keys(column, tuple(v[:dp.MAX_KEY_LENGTH] for v in values))
    if spec.cells() > policy.privacy.max_cells:
        raise QueryRefused("the keys make {cells} groups; the policy allows {max_cells}",
                           cells=spec.cells(), max_cells=policy.privacy.max_cells)
    return spec
