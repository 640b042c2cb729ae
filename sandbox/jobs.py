"""Submitting and running jobs: one gated SELECT over a grant's workspace, output kept inside."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import applications
from catalog.files import schema_of, sha256_file, write_parquet_atomically
from catalog.models import Grant, utcnow
from catalog.names import identifier
from lineage import append
from policies import SYSTEM, Actor, Policy, Role, require
from sandbox import gate
from sandbox.engine import Exposure, locked_connection, run_select
from sandbox.errors import Conflict, JobFailed, NotFound, QueryRefused
from sandbox.models import Job

log = logging.getLogger(__name__)
Transaction = Callable[[], AbstractContextManager[Session]]
TARGETS = ("real", "simulated")


def workspace_dir(home: Path, grant_id: int) -> Path:
    return home / "workspaces" / str(grant_id)


def exposures(session: Session, home: Path, grant: Grant, target: str,
              before_job: int | None = None) -> list[Exposure]:
    """The tables a job of ``grant`` may read: granted columns, and earlier outputs."""
    found = [
        Exposure(item.dataset_version.dataset.name, home / item.dataset_version.path,
                 tuple(item.columns))
        for item in grant.items
    ]
    query = select(Job).where(Job.grant_id == grant.id, Job.target == target,
                              Job.status == "succeeded")
    if before_job is not None:
        query = query.where(Job.id < before_job)
    for job in session.scalars(query.order_by(Job.id)):
        columns = tuple(c["name"] for c in job.output_schema or [])
        found.append(Exposure(job.output_name, home / job.output_path, columns))
    return found


def submit(session: Session, actor: Actor, policy: Policy, home: Path, grant_id: int, sql: str,
           output_name: str, target: str = "real") -> Job:
    """Queue a job after checking the grant, the name and the statement (nothing runs yet)."""
    require(actor, Role.MERCHANT)
    if target not in TARGETS:
        raise QueryRefused(f"target must be one of {', '.join(TARGETS)}")
    if target == "simulated":
        raise QueryRefused(
            "the simulated target needs the dataset previews, which are not built yet; "
            "run on the real target (results stay inside the platform)"
        )
    grant = applications.usable_grant(session, actor, grant_id)
    output_name = identifier(output_name, "output name", policy.max_name_length)
    tree = gate.check(sql, int(policy.sandbox.get("max_sql_length", 100_000)))
    visible = {e.name: e for e in exposures(session, home, grant, target)}
    taken = session.scalar(select(Job.id).where(
        Job.grant_id == grant.id, Job.target == target, Job.output_name == output_name,
        Job.status.in_(("queued", "running", "succeeded"))))
    if output_name in visible or taken is not None:
        raise Conflict(f"the workspace already has a table named {output_name!r}")
    unknown = sorted(gate.tables_read(tree) - set(visible))
    if unknown:
        raise QueryRefused(f"no table {unknown[0]!r} in this workspace (granted: "
                           f"{', '.join(sorted(visible))})")
    job = Job(grant_id=grant.id, org=grant.org, submitted_by=actor.id, sql=sql, target=target,
              output_name=output_name, sources=_provenance(session, grant, gate.tables_read(tree)))
    session.add(job)
    session.flush()
    append(session, actor, "job.queued", f"job:{job.id}", {
        "grant_id": grant.id, "target": target, "output_name": output_name,
        "sources": job.sources,
    })
    return job


def _provenance(session: Session, grant: Grant, tables: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in grant.items:
        version = item.dataset_version
        if version.dataset.name in tables:
            out[version.dataset.name] = {
                "kind": "dataset", "registration_no": version.dataset.registration_no,
                "version": version.version, "sha256": version.sha256,
                "columns": list(item.columns),
            }
    for job in session.scalars(select(Job).where(Job.grant_id == grant.id,
                                                 Job.output_name.in_(tables))):
        out[job.output_name] = {"kind": "output", "job_id": job.id, "sha256": job.output_sha256}
    return out


def run(transaction: Transaction, policy: Policy, home: Path, job_id: int) -> None:
    """Run a queued job to a final state; every transition is committed with its event."""
    with transaction() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"no job {job_id}")
        if job.status != "queued":
            raise Conflict(f"job {job_id} is {job.status}, not queued")
        grant = session.get(Grant, job.grant_id)
        if not grant.usable():
            _finish(session, job, "failed", "the grant ended before the job could run")
            return
        job.status, job.started_at = "running", utcnow()
        append(session, SYSTEM, "job.running", f"job:{job.id}", {})
        visible = exposures(session, home, grant, job.target, before_job=job.id)
        sql, output_name, grant_id = job.sql, job.output_name, job.grant_id

    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix=f"job{job_id}-", dir=_scratch_root(home)))
    relative = Path("workspaces") / str(grant_id) / "outputs" / f"{output_name}.parquet"
    target = home / relative
    try:
        con = locked_connection(visible, scratch, policy.sandbox)
        try:
            table = run_select(con, sql, int(policy.sandbox["max_result_rows"]),
                               float(policy.sandbox["max_execution_seconds"]))
        finally:
            con.close()
        write_parquet_atomically(table, target)
        outcome = ("succeeded", "", table)
    except (JobFailed, QueryRefused) as exc:
        outcome = ("failed", exc.message, None)
    except MemoryError:
        outcome = ("failed", "the job ran out of memory", None)
    except Exception as exc:  # never leave a job running: record why it ended
        log.exception("job %s failed unexpectedly", job_id)
        target.unlink(missing_ok=True)
        outcome = ("failed", f"the job failed unexpectedly ({type(exc).__name__})", None)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    status, error, table = outcome
    with transaction() as session:
        job = session.get(Job, job_id)
        job.duration_ms = int((time.monotonic() - started) * 1000)
        if table is not None:
            job.output_path, job.output_sha256 = str(relative), sha256_file(target)
            job.output_rows, job.output_schema = table.num_rows, schema_of(table.schema)
        _finish(session, job, status, error)


def _finish(session: Session, job: Job, status: str, error: str) -> None:
    job.status, job.error, job.finished_at = status, error, utcnow()
    payload: dict[str, Any] = {"duration_ms": job.duration_ms or 0}
    if status == "succeeded":
        payload.update(rows=job.output_rows, sha256=job.output_sha256,
                       columns=[c["name"] for c in job.output_schema or []])
    else:
        payload["error"] = error[:500]
    append(session, SYSTEM, f"job.{status}", f"job:{job.id}", payload)


def _scratch_root(home: Path) -> Path:
    root = home / "scratch"
    root.mkdir(parents=True, exist_ok=True)
    return root


def get(session: Session, actor: Actor, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or (actor.role == Role.MERCHANT and job.org != actor.org):
        raise NotFound(f"no job {job_id}")
    require(actor, Role.MERCHANT, Role.REVIEWER, Role.ADMIN)
    return job


def list_jobs(session: Session, actor: Actor, grant_id: int | None = None) -> list[Job]:
    require(actor, Role.MERCHANT, Role.REVIEWER, Role.ADMIN)
    query = select(Job).order_by(Job.id)
    if actor.role == Role.MERCHANT:
        query = query.where(Job.org == actor.org)
    if grant_id is not None:
        query = query.where(Job.grant_id == grant_id)
    return list(session.scalars(query))

