"""The life of a job in the store: submit, claim, complete, cancel, recover.

States: queued -> running -> succeeded | failed | timed_out | cancelled; a running job whose
worker died goes back to queued while attempts are left. Every transition commits with its
ledger event. Jobs never run here: a worker (``sandbox.pool``) runs each in its own process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anonymize.entities import PERSONAL_ENTITIES
from catalog import applications, consent, encryption
from catalog.applications import workspace_path
from catalog.files import sha256_file
from catalog.models import ApplicationItem, Grant, utcnow
from catalog.names import identifier
from catalog.previews import ensure_preview
from kernel.base import on_rollback
from lineage import append
from policies import SYSTEM, Actor, Policy, Role
from policies.permissions import Action, permit
from sandbox import budget, events, gate, own_data, visibility
from sandbox.engine import first_rows
from sandbox.errors import Conflict, JobFailed, NotFound, QueryRefused, storage_error
from sandbox.models import ACTIVE_STATES, DRAFT_PREFIX, FINAL_STATES, Job
from sandbox.spec import Exposure
from sandbox.states import JOBS, JobStatus
from storage import Storage, StorageError
from vault import VaultError

TARGETS = ("real", "simulated")
# Keys of ``session.info`` a store sets when jobs are dispatched by a queue outside this table
# (PostgreSQL: procrastinate): called in the transaction that queues or withdraws a job, so the
# delivery commits or rolls back with the job's state and its ledger event.
QUEUED_HOOK = "sandbox.job_queued"
WITHDRAWN_HOOK = "sandbox.job_withdrawn"
RESERVED_PREFIXES = ("duckdb_", "pg_", "sqlite_", "information_schema", "tds_", "granted",
                     "draft_")
_MISSING_COLUMN = re.compile(r'Referenced column "([^"]+)" not found'
                             r'|does not have a column named "([^"]+)"')


def output_relative(job: Job) -> str:
    """Where a succeeded job's output lives in the storage."""
    folder = "outputs" if job.target == "real" else "simulated"
    return f"{workspace_path(job.grant_id)}/{folder}/{job.output_name}.parquet"


def exposures(session: Session, data: Storage, policy: Policy, grant: Grant, target: str,
              before_job: int | None = None, persons: bool = False) -> list[Exposure]:
    """The tables a job of ``grant`` may read: granted columns of each dataset (the real
    version, or its simulated preview), and earlier outputs of the same target. With
    ``persons`` (the platform's own check runs) each dataset also carries its contributors."""
    rows = policy.sandbox.placeholder_rows
    found = []
    # Real files may be encrypted at rest: each travels with the key it is read with (the
    # dataset's, or the grant's for its own tables and outputs); simulated ones are plain.
    real = target == "real"
    grant_key = _hex(encryption.grant_key(session, grant.id)) if real else None
    for item in grant.items:
        version = item.dataset_version
        path = (data.fetch(version.path) if target == "real"
                else ensure_preview(data, version, rows))
        consented = column = None
        if target == "real" and version.dataset.consent_required:
            consented, column = consent_file(session, data, grant, item)
        found.append(Exposure(version.dataset.name, path, tuple(item.columns),
                              pseudonymized=pseudonymized_columns(policy, item),
                              person=(version.person_key() or "") if persons else None,
                              consent=consented, consent_column=column,
                              key=_hex(encryption.version_key(version, session)) if real
                              else None))
    for own in own_data.active(session, grant.id):
        # The merchant's own tables: real jobs read the file, simulated ones its preview.
        # Read in place like outputs (an upload or a deletion does not rebuild the grant's
        # stage), except in the platform's runs with contributors, which stage them.
        path = (data.fetch(own.path) if target == "real"
                else own_data.simulated_path(data, own, rows))
        found.append(Exposure(own.name, path, tuple(own.columns), staged=persons,
                              person=(own.person_key or "") if persons else None,
                              key=grant_key))
    query = select(Job).where(Job.grant_id == grant.id, Job.target == target,
                              Job.status == "succeeded")
    if before_job is not None:
        query = query.where(Job.id < before_job)
    for job in session.scalars(query.order_by(Job.id)):
        columns = tuple(c["name"] for c in job.output_schema or [])
        found.append(Exposure(job.output_name, data.fetch(job.output_path), columns,
                              staged=False, key=grant_key))
    return found


def _hex(key: bytes | None) -> str | None:
    return key.hex() if key is not None else None


def consent_file(session: Session, data: Storage, grant: Grant,
                 item: ApplicationItem) -> tuple[str, str]:
    """The file of the digests of the persons whose consent covers ``item``'s columns today,
    and the column they digest. Named by its content, so that a new consent, a withdrawal or an
    expiry gives the stage a new key and the next job a rebuilt stage. Fails closed: a dataset
    used with consent but without a person key exposes nothing."""
    import pyarrow as pa  # here: job submission paths that never stage need not load Arrow
    import pyarrow.parquet as pq

    version = item.dataset_version
    column = version.person_key()
    if column is None:
        raise JobFailed(f"{version.dataset.name} is used with consent but has no person key: "
                        "its provider marks one")
    subjects = consent.covering(session, version.dataset, item.columns)
    content = hashlib.sha256("\n".join([column, *subjects]).encode()).hexdigest()[:24]
    folder = Path(data.local(f"{workspace_path(grant.id)}/consent"))
    target = folder / f"{version.dataset.name}-{content}.parquet"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        pq.write_table(pa.table({"subject": pa.array(subjects, pa.string())}), partial)
        os.replace(partial, target)
    return str(target), column


def pseudonymized_columns(policy: Policy, item: ApplicationItem) -> tuple[str, ...]:
    """Granted columns that reach the sandbox as keyed pseudonyms: personal-identifier columns
    of a level whose policy says so, except those the approved application asked for raw."""
    version = item.dataset_version
    if not policy.level(version.dataset.level).pseudonymize_pii:
        return ()
    personal = {c for c, e in version.entity_columns().items() if e in PERSONAL_ENTITIES}
    raw = set(item.raw_columns or [])
    return tuple(c for c in item.columns if c in personal and c not in raw)


def grant_view(policy: Policy, grant: Grant) -> dict[str, Any]:
    """A grant as shown to its users, with the columns its jobs see as pseudonyms."""
    data = grant.as_dict()
    for entry, item in zip(data["datasets"], grant.items, strict=True):
        entry["pseudonymized"] = list(pseudonymized_columns(policy, item))
    return data


def table_names(session: Session, grant: Grant, target: str) -> set[str]:
    """Names of the tables a new job of ``grant`` may read (touches no file)."""
    names = {item.dataset_version.dataset.name for item in grant.items}
    names.update(own.name for own in own_data.active(session, grant.id))
    names.update(session.scalars(select(Job.output_name).where(
        Job.grant_id == grant.id, Job.target == target, Job.status == "succeeded")))
    return names


def submit(session: Session, actor: Actor, policy: Policy, data: Storage, grant_id: int, sql: str,
           output_name: str, target: str = "real") -> Job:
    """Queue a job after checking the grant, the name and the statement (nothing runs yet)."""
    permit(actor, Action.JOB_SUBMIT)
    if target not in TARGETS:
        raise QueryRefused("target must be one of {targets}", targets=', '.join(TARGETS))
    grant = applications.usable_grant(session, actor, grant_id)
    draft = target == "simulated" and not output_name.strip()
    if target == "real" and not output_name.strip():
        raise QueryRefused("a run on real data needs an output name: egress requests and "
                           "later jobs refer to its output by it (simulated runs may leave it "
                           "out)")
    visible = table_names(session, grant, target)
    if not draft:
        output_name = free_name(session, policy, grant, target, output_name, visible)
    tree = gate.authorize(sql, visible, policy.sandbox, target)
    spent = budget.before_submit(session, policy, grant) if target == "real" else 0
    job = Job(grant_id=grant.id, org=grant.org, submitted_by=actor.id, sql=sql, target=target,
              output_name=output_name, attempts=0, shape=gate.shape(tree),
              sources=provenance(session, grant, gate.tables_read(tree)))
    session.add(job)
    session.flush()
    if draft:
        job.output_name = f"{DRAFT_PREFIX}{job.id}"
    append(session, actor, events.JOB_QUEUED, f"job:{job.id}", {
        "grant_id": grant.id, "target": target, "output_name": job.output_name,
        "sources": job.sources,
    })
    if target == "real":
        budget.after_submit(session, policy, grant, job, spent)
    queued(session, job)
    return job


def free_name(session: Session, policy: Policy, grant: Grant, target: str, name: str,
               visible: set[str]) -> str:
    """``name`` checked as a new output of ``grant``: an identifier, not reserved, not one of
    the ``visible`` tables nor the name of a job still to finish."""
    name = identifier(name, "output name", policy.max_name_length)
    if name.lower().startswith(RESERVED_PREFIXES):
        raise QueryRefused("output names may not start with {reserved_prefixes}",
                           reserved_prefixes=', '.join(RESERVED_PREFIXES))
    taken = session.scalar(select(Job.id).where(
        Job.grant_id == grant.id, Job.target == target, Job.output_name == name,
        Job.status.in_((*ACTIVE_STATES, JobStatus.SUCCEEDED.value))))
    if name in visible or taken is not None:
        raise Conflict("the workspace already has a table named {name!r}", name=name)
    return name


def keep(session: Session, actor: Actor, policy: Policy, job_id: int, name: str) -> Job:
    """Give a simulated draft a name: later jobs read it by that name (its file stays)."""
    permit(actor, Action.JOB_SUBMIT)
    job = get(session, actor, job_id)
    if not job.draft():
        raise Conflict("job {job_id} is not a draft: its output is named {output_name}",
                       job_id=job_id, output_name=job.output_name)
    if job.status != "succeeded":
        raise Conflict("job {job_id} is {status}; only a finished draft can be kept",
                       job_id=job_id, status=job.status)
    grant = applications.usable_grant(session, actor, job.grant_id)
    name = free_name(session, policy, grant, job.target, name,
                      table_names(session, grant, job.target))
    append(session, actor, events.JOB_KEPT, f"job:{job.id}",
           {"draft": job.output_name, "output_name": name})
    job.output_name = name
    return job


def explained(grant: Grant, message: str) -> str:
    """A binder error naming a column the grant leaves out says so: "not granted" rather than
    DuckDB's "not found" (which columns a dataset has is public in the catalog)."""
    found = _MISSING_COLUMN.search(message)
    if found is None:
        return message
    column = found.group(1) or found.group(2)
    for item in grant.items:
        version = item.dataset_version
        if column in version.column_names and column not in item.columns:
            return (f"column {column!r} of {version.dataset.name} is not granted to this "
                    f"workspace; its granted columns are {', '.join(item.columns)}")
    return message


def queued(session: Session, job: Job) -> None:
    hook = session.info.get(QUEUED_HOOK)
    if hook is not None:
        job.dispatch_id = hook(session, job)


def _withdrawn(session: Session, job: Job) -> None:
    hook = session.info.get(WITHDRAWN_HOOK)
    if hook is not None and job.dispatch_id is not None:
        hook(session, job)


def provenance(session: Session, grant: Grant, tables: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in grant.items:
        version = item.dataset_version
        if version.dataset.name in tables:
            out[version.dataset.name] = {
                "kind": "dataset", "registration_no": version.dataset.registration_no,
                "version": version.version, "sha256": version.sha256,
                "columns": list(item.columns),
            }
    for own in own_data.active(session, grant.id):
        if own.name in tables:
            out[own.name] = {"kind": "own", "own_id": own.id, "sha256": own.sha256,
                             "columns": own.columns}
    for job in session.scalars(select(Job).where(Job.grant_id == grant.id,
                                                 Job.output_name.in_(tables))):
        out[job.output_name] = {"kind": "output", "job_id": job.id, "sha256": job.output_sha256}
    return out


def claim(session: Session, policy: Policy, data: Storage, worker: str,
          only: set[int] | None = None) -> tuple[Job, list[Exposure]] | None:
    """Take the oldest queued job for ``worker``: it becomes running (one event). Returns the
    job and what it may read, or None when nothing is queued."""
    while True:
        query = select(Job).where(Job.status == "queued").order_by(Job.id).limit(1)
        if only is not None:
            query = query.where(Job.id.in_(only))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job = session.scalar(query)
        if job is None:
            return None
        grant = session.get(Grant, job.grant_id)
        if not grant.usable():
            _finish(session, job, "failed", "the grant ended before the job could run",
                    "grant_ended")
            continue
        try:
            # A DP job's statement (the platform's own) bounds each person's rows: it reads
            # the datasets with their contributors, which merchants' SQL never sees.
            tables = exposures(session, data, policy, grant, job.target, before_job=job.id,
                               persons=job.dp is not None)
        except JobFailed as exc:  # a consent scope that cannot be applied: fail, never retry
            _finish(session, job, "failed", str(exc), "consent_unusable")
            continue
        except VaultError as exc:  # no master key, or the grant's key was destroyed
            _finish(session, job, "failed", exc.message, "key_unavailable")
            continue
        if job.dp is not None:
            # The consents its run applies: its egress refuses a release after they changed.
            job.dp = {**job.dp, "consent": {t.name: Path(t.consent).name for t in tables
                                            if t.consent}}
        job.status = JOBS.move(job.id, job.status, JobStatus.RUNNING).value
        job.worker, job.attempts = worker, job.attempts + 1
        job.started_at = job.heartbeat_at = utcnow()
        append(session, SYSTEM, events.JOB_RUNNING, f"job:{job.id}",
               {"attempt": job.attempts, "worker": worker})
        return job, tables


def complete(session: Session, data: Storage, job_id: int, worker: str, outcome: dict[str, Any],
             produced: Path | None, duration_ms: int, policy: Policy) -> Job | None:
    """Record how a running job of ``worker`` ended; a succeeded job's output (``produced``) is
    moved into the workspace. None if the job is no longer this worker's (it was recovered)."""
    job = session.get(Job, job_id)
    if job is None or job.status != "running" or job.worker != worker:
        return None
    job.duration_ms = duration_ms
    status, error = outcome["status"], outcome.get("error") or ""
    error_class, disclosive = outcome.get("error_class"), bool(outcome.get("disclosive"))
    grant = session.get(Grant, job.grant_id)
    if status == "succeeded" and not grant.usable():
        status, error = "failed", "the grant ended while the job ran; its output was discarded"
        error_class, disclosive = "grant_ended", False
    if job.cancel_requested and status != "cancelled":
        status, error, error_class, disclosive = "cancelled", "cancelled by request", None, False
    if status == "succeeded":
        relative = output_relative(job)
        target = data.local(relative)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(produced, target)
            data.put(relative)
        except (OSError, StorageError) as exc:  # e.g. full storage: no half-written output
            target.unlink(missing_ok=True)
            status, error = "failed", storage_error(exc, "its output could not be saved")
            error_class, disclosive = "storage", False
        else:
            on_rollback(session, lambda: data.remove(relative))
            job.output_path, job.output_sha256 = relative, sha256_file(target)
            job.output_rows, job.output_schema = int(outcome["rows"]), outcome["schema"]
    if error_class == "binder":
        error = explained(grant, error)
    _finish(session, job, status, error, error_class, disclosive)
    if job.target == "real" and job.status in budget.FAILED:
        budget.after_failure(session, policy, job)
    return job


def withheld(job: Job, error_class: str) -> str:
    """What a real-data job's merchant reads of a failure whose message may quote the data."""
    return (f"the job failed on the real data ({error_class.replace('_', ' ')} error). Its "
            "message may show values of the data, so only the platform's operators read it "
            f"(reference job {job.id}); run the same SQL on simulated data to see the message")


def _finish(session: Session, job: Job, status: str, error: str, error_class: str | None = None,
            disclosive: bool = False) -> None:
    """End ``job``. Its ledger event names the class of a failure, never its message: the
    ledger is kept five years and a message may quote the data."""
    if status not in FINAL_STATES:
        raise ValueError(f"not a final job state: {status}")
    final = JOBS.move(job.id, job.status, JobStatus(status))
    if status != "succeeded":
        error_class = error_class or ("time_limit" if status == "timed_out" else
                                      "cancelled" if status == "cancelled" else "failed")
        job.error_class, job.error_detail = error_class, error
        if disclosive and job.target == "real":
            error = withheld(job, error_class)
    job.status, job.error, job.finished_at = final.value, error, utcnow()
    payload: dict[str, Any] = {"duration_ms": job.duration_ms or 0, "attempts": job.attempts}
    if status == "succeeded":
        payload.update(rows=job.output_rows, sha256=job.output_sha256,
                       columns=[c["name"] for c in job.output_schema or []])
    else:
        payload["error_class"] = error_class
    append(session, SYSTEM, events.FINISHED[final], f"job:{job.id}", payload)


def cancel(session: Session, actor: Actor, job_id: int) -> Job:
    """Cancel a queued job at once; ask the worker of a running job to stop it."""
    permit(actor, Action.JOB_CANCEL)
    job = get(session, actor, job_id)
    if job.status not in ACTIVE_STATES:
        raise Conflict("job {job_id} is already {status}", job_id=job_id, status=job.status)
    if job.status == "queued":
        _finish(session, job, "cancelled", f"cancelled by {actor.name} before it ran")
        _withdrawn(session, job)
    elif not job.cancel_requested:
        job.cancel_requested = True
        append(session, actor, events.JOB_CANCEL_REQUESTED, f"job:{job.id}", {})
        _withdrawn(session, job)
    return job


def heartbeat(session: Session, worker: str, job_ids: list[int]) -> set[int]:
    """Confirm ``worker`` still runs ``job_ids``; return those whose cancellation was asked."""
    if not job_ids:
        return set()
    now, cancelled = utcnow(), set()
    for job in session.scalars(select(Job).where(Job.id.in_(job_ids), Job.worker == worker,
                                                 Job.status == "running")):
        job.heartbeat_at = now
        if job.cancel_requested:
            cancelled.add(job.id)
    return cancelled


def recover(session: Session, policy: Policy, dead_worker: Any = None,
            reason: str = "") -> list[Job]:
    """Running jobs whose worker stopped: re-queued while attempts are left, else failed (or
    cancelled, if that was asked). A worker is stopped when its lease ran out, or when
    ``dead_worker(worker)`` says so (e.g. its process is gone on this host)."""
    lease = dt.timedelta(seconds=policy.sandbox.lease_seconds)
    deadline, recovered = utcnow() - lease, []
    for job in session.scalars(select(Job).where(Job.status == "running").order_by(Job.id)):
        silent = job.heartbeat_at is None or job.heartbeat_at < deadline
        if not (silent or (dead_worker is not None and dead_worker(job.worker))):
            continue
        why = reason or f"its worker {job.worker} stopped"
        if job.cancel_requested:
            _finish(session, job, "cancelled", f"cancelled by request ({why})")
        elif job.attempts < policy.sandbox.max_attempts:
            job.status = JOBS.move(job.id, job.status, JobStatus.QUEUED).value
            job.worker, job.heartbeat_at = None, None
            append(session, SYSTEM, events.JOB_REQUEUED, f"job:{job.id}",
                   {"reason": why, "attempts": job.attempts})
            queued(session, job)
        else:
            _finish(session, job, "failed", f"the job was not finished: {why}; "
                    f"it was tried {job.attempts} times", "worker_lost")
        recovered.append(job)
    return recovered


def release(session: Session, worker: str, job_id: int, reason: str) -> None:
    """Give back a running job its worker stops before it ends (shutdown): it is queued again
    and the interrupted attempt does not count."""
    job = session.get(Job, job_id)
    if job is None or job.status != "running" or job.worker != worker:
        return
    if job.cancel_requested:
        _finish(session, job, "cancelled", "cancelled by request")
        return
    job.status = JOBS.move(job.id, job.status, JobStatus.QUEUED).value
    job.worker, job.heartbeat_at = None, None
    job.attempts = max(0, job.attempts - 1)
    append(session, SYSTEM, events.JOB_REQUEUED, f"job:{job.id}", {"reason": reason,
                                                              "attempts": job.attempts})
    queued(session, job)


def worker_name() -> str:
    """host:pid:nonce, naming a worker in the jobs it runs (``process_gone`` reads it back)."""
    return f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(4)}"


def process_gone(worker: str | None) -> bool:
    """True if ``worker`` ran on this host and its process no longer exists."""
    if not worker:
        return True
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    if host != os.uname().nodename or not pid.isdigit():
        return False
    return not pid_alive(int(pid))


def pid_alive(pid: int) -> bool:
    """True if process ``pid`` exists on this host (also when it is not ours to signal)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def get(session: Session, actor: Actor, job_id: int) -> Job:
    """A job its merchant's organization, an administrator, or a reviewer it was sent to for
    review may read (reviewers read only jobs of egress requests in their queue)."""
    permit(actor, Action.JOB_READ)
    job = session.get(Job, job_id)
    if job is None or (actor.role == Role.MERCHANT and job.org != actor.org) or (
            actor.role == Role.REVIEWER and job.id not in reviewable_jobs(session, actor)):
        raise NotFound("no job {job_id}", job_id=job_id)
    return job


def list_jobs(session: Session, actor: Actor, grant_id: int | None = None,
              status: str | None = None) -> list[Job]:
    permit(actor, Action.JOB_READ)
    query = select(Job).order_by(Job.id)
    if actor.role == Role.MERCHANT:
        query = query.where(Job.org == actor.org)
    elif actor.role == Role.REVIEWER:
        query = query.where(Job.id.in_(reviewable_jobs(session, actor)))
    if grant_id is not None:
        query = query.where(Job.grant_id == grant_id)
    if status is not None:
        query = query.where(Job.status == status)
    return list(session.scalars(query))


def _no_reviewable_jobs(session: Session, actor: Actor) -> set[int]:
    return set()


# The jobs a reviewer may read are those of the egress requests sent to them for review; the
# egress package, which builds on this one, says which (it sets this when it is imported).
# Until then a reviewer reads no job.
reviewable_jobs: Callable[[Session, Actor], set[int]] = _no_reviewable_jobs


def shown_rows(data: Storage, job: Job, limit: int) -> dict[str, Any] | None:
    """The first rows of a succeeded simulated job, which the merchant may see; never a real
    output's rows (those leave only through egress)."""
    if job.target != "simulated" or job.status != "succeeded" or not job.output_path:
        return None
    columns, rows = first_rows(data.fetch(job.output_path), limit)
    return {"columns": columns, "rows": rows, "simulated": True, "total_rows": job.output_rows}


def view(data: Storage, policy: Policy, job: Job, actor: Actor,
         now: dt.datetime | None = None) -> dict[str, Any]:
    """A job as ``actor`` may read it (:func:`sandbox.visibility.shown`), and for a simulated
    job its first rows (up to the policy's max_simulated_rows_shown)."""
    shown = visibility.shown(policy, job, actor, now)
    shown["result"] = shown_rows(data, job, policy.sandbox.max_simulated_rows_shown)
    return shown
