"""The local worker pool: the embedded default behind the job queue.

A pool claims queued jobs from the store and runs each in its own job process (warm spares are
kept so a job starts within milliseconds), at most ``pool_size`` at once. It confirms its
running jobs with heartbeats, kills a job that runs past its time or whose cancellation was
asked, records every outcome with its ledger event, and recovers jobs of workers that died.
``tds serve`` and ``tds worker`` run one; so does ``tds job submit`` while it waits.

The pool only needs a ``transaction`` and a ``read`` session factory: a distributed engine
(a PostgreSQL-backed queue) can drive the same functions of ``sandbox.jobs``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anonymize.operators import pseudonym_key
from catalog import encryption
from catalog.applications import workspace_path
from catalog.consent import digest_key
from policies import Policy
from sandbox import jobs, memory
from sandbox.models import FINAL_STATES, Job
from sandbox.process import JobProcess, WarmSpares, hard_limit, timed_out
from sandbox.spec import OUTPUT_NAME, Exposure
from storage import Storage

log = logging.getLogger(__name__)
SessionFactory = Callable[[], AbstractContextManager[Session]]
CANCEL_POLL_SECONDS = 0.25


@dataclass
class Running:
    job_id: int
    process: JobProcess
    workdir: Path
    dp: dict[str, Any] | None = None  # a DP job's document: its output gets noise (sandbox.dp)
    key: bytes | None = field(default=None, repr=False)  # the grant's data key, if encrypted


# A claimed job: its id, its job process's spec, its directory, its DP document (or None).
Claimed = tuple[int, dict[str, Any], Path, dict[str, Any] | None]


def job_directory(job_id: int, under: Path | None = None) -> Path:
    """A new private (0700) directory for one job process, in the system's temporary directory
    (or ``under``: the memory file system, for a grant encrypted at rest): the only host path
    the job's DuckDB can list is this throwaway one. Its name holds the worker's process id, so
    a worker that was killed leaves nothing a later one cannot find."""
    return Path(tempfile.mkdtemp(prefix=f"tds-job{job_id}-p{os.getpid()}-",
                                 dir=str(under) if under is not None else None))


def remove_orphans(policy: Policy | None = None) -> list[Path]:
    """Delete job directories (partial outputs included) left by workers on this host that died
    without cleaning up (kill -9, power loss); returns what was removed."""
    removed = []
    places = [Path(tempfile.gettempdir())]
    in_memory = memory.root(policy) if policy is not None else None
    if in_memory is not None:
        places.append(in_memory)
    if policy is not None:
        removed += memory.orphans(policy)
    for path in (p for place in places for p in place.glob("tds-job*-p*-*")):
        match = re.fullmatch(r"tds-job\d+-p(\d+)-.*", path.name)
        if match and not jobs.pid_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def job_spec(data: Storage, policy: Policy, secret: bytes, job: Job, tables: list[Exposure],
             workdir: Path, show_rows: int = 0, grant_key: bytes | None = None
             ) -> dict[str, Any]:
    """What a job process needs to run ``job`` (and nothing more: no store, no credentials,
    no master key). ``grant_key``: the grant's data key when its real data is encrypted at
    rest (its output is written with it, and its stage kept in memory, or encrypted with it
    where there is no memory file system); the tables carry their own keys."""
    # Tables with their contributors (DP jobs, the egress checks' runs) have a stage of their
    # own: the merchant's jobs never read it.
    persons = "-checks" if any(t.person is not None for t in tables) else ""
    name = f"stage-{job.target}{persons}"
    in_memory = memory.stage_dir(policy, data.root, job.grant_id, name) \
        if grant_key is not None else None
    return {
        "workdir": str(workdir), "home": str(data.root),
        # The stage is derived from the tables and kept on this machine (it is rebuilt if
        # missing), next to the workspace's files when the storage is a shared path, or in
        # memory only for a grant encrypted at rest.
        "stage_dir": str(in_memory or data.local(f"{workspace_path(job.grant_id)}/{name}")),
        "stage_in_memory": in_memory is not None,
        "tables": [t.as_dict() for t in tables], "sql": job.sql, "target": job.target,
        # A grant encrypted at rest without a memory file system spills nothing: DuckDB's
        # spill files would hold its data decrypted on a disk.
        "settings": dict(policy.sandbox) | ({"max_temp_directory_size": "0GB"}
                                            if grant_key is not None and in_memory is None
                                            else {}),
        # Two keys: the stage's pseudonyms of identifier columns, and the one tds_pseudonym()
        # and tds_redact() use. Were they one, a merchant could compute the stored pseudonym
        # of any guess (a dictionary of names) and reverse the column.
        "stage_key": pseudonym_key(secret, f"grant:{job.grant_id}").hex(),
        "pseudonym_key": pseudonym_key(secret, f"grant:{job.grant_id}:sql").hex(),
        # Keys of the consent digests of the datasets used with consent (catalog.consent).
        "consent_keys": {t.name: digest_key(secret, t.name).hex() for t in tables
                         if t.consent},
        "keep_output": True, "show_rows": show_rows,
        "grant_key": grant_key.hex() if grant_key is not None else None,
    }


class LocalPool:
    def __init__(self, transaction: SessionFactory, read: SessionFactory, policy: Policy,
                 data: Storage, secret: bytes, size: int | None = None,
                 only: set[int] | None = None) -> None:
        self.transaction, self.read, self.policy, self.data = transaction, read, policy, data
        self.secret = secret
        self.size = size if size is not None else policy.sandbox.pool_size
        self.only = only
        self.worker = jobs.worker_name()
        self.running: dict[int, Running] = {}
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._last_heartbeat = self._last_cancel_check = 0.0
        self._limit = hard_limit(policy.sandbox)
        self.nice = policy.sandbox.job_nice
        self.spares = WarmSpares(self.size, self.nice)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> LocalPool:
        """Recover jobs of dead workers, then run the dispatch loop in a thread."""
        remove_orphans(self.policy)
        with self.transaction() as session:
            jobs.recover(session, self.policy, jobs.process_gone)
        self._thread = threading.Thread(target=self._loop, name="tds-pool", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look for queued jobs now (called after a submit commits)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop claiming; jobs still running are killed and queued again for another worker."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        for run in list(self.running.values()):
            run.process.kill()
            try:
                with self.transaction() as session:
                    jobs.release(session, self.worker, run.job_id, "the worker was stopped")
            except Exception:
                log.exception("could not give back job %s", run.job_id)
            shutil.rmtree(run.workdir, ignore_errors=True)
        self.running.clear()
        self.spares.close()

    def __enter__(self) -> LocalPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the loop --------------------------------------------------------------------------

    def _loop(self) -> None:
        heartbeat = self.policy.sandbox.heartbeat_seconds
        while not self._stop.is_set():
            try:
                self._reap()
                now = time.monotonic()
                if now - self._last_heartbeat >= heartbeat:
                    self._heartbeat()
                    self._last_heartbeat = now
                elif self.running and now - self._last_cancel_check >= CANCEL_POLL_SECONDS:
                    self._check_cancellations()
                    self._last_cancel_check = now
                self._fill()
                self._keep_spares()
            except Exception:  # the loop must outlive a database hiccup; the next turn retries
                log.exception("worker pool loop")
                time.sleep(0.5)
            self._wake.wait(0.05 if self.running else 0.1)
            self._wake.clear()

    def _keep_spares(self) -> None:
        # A warm process for each slot, so a job does not wait for Python, DuckDB and Arrow to
        # load (about 0.4 s of CPU). The next one starts once the youngest running job has run
        # spare_delay_seconds (or has ended): its start overlaps a long job instead of delaying
        # the next, without taking the CPU from a short one. A ready process waits on its input
        # without using the CPU.
        delay = self.policy.sandbox.spare_delay_seconds
        if self.running and min(r.process.elapsed for r in self.running.values()) < delay:
            return
        if not self._stop.is_set():
            self.spares.refill()

    def _fill(self) -> None:
        while len(self.running) < self.size and not self._stop.is_set():
            claimed = claim_spec(self.transaction, self.policy, self.data, self.secret,
                                 self.worker, self.only)
            if claimed is None:
                return
            job_id, spec, workdir, document = claimed
            process = self.spares.take()
            process.start(spec)
            self.running[job_id] = Running(job_id, process, workdir, document,
                                           spec_key(spec))
            # Wake the loop the moment the process ends, so its outcome is recorded at once.
            threading.Thread(target=self._watch, args=(process,), daemon=True).start()

    def _watch(self, process: JobProcess) -> None:
        process.wait()
        self._wake.set()

    def _reap(self) -> None:
        for run in list(self.running.values()):
            if run.process.done():
                self._record(run, run.process.outcome())
            elif run.process.elapsed > self._limit:
                run.process.kill()
                self._record(run, timed_out(self.policy.sandbox))

    def _record(self, run: Running, outcome: dict[str, Any]) -> None:
        try:
            record(self.transaction, self.data, self.policy, self.worker, run, outcome)
        finally:
            self.running.pop(run.job_id, None)
            shutil.rmtree(run.workdir, ignore_errors=True)

    def _heartbeat(self) -> None:
        with self.transaction() as session:
            cancelled = jobs.heartbeat(session, self.worker, list(self.running))
            jobs.recover(session, self.policy, jobs.process_gone)
        self._cancel(cancelled)

    def _check_cancellations(self) -> None:
        with self.read() as session:
            cancelled = set(session.scalars(select(Job.id).where(
                Job.id.in_(list(self.running)), Job.cancel_requested.is_(True))))
        self._cancel(cancelled)

    def _cancel(self, job_ids: set[int]) -> None:
        for job_id in job_ids:
            run = self.running.get(job_id)
            if run is not None:
                run.process.kill()
                self._record(run, {"status": "cancelled", "error": "cancelled by request"})


def claim_spec(transaction: SessionFactory, policy: Policy, data: Storage, secret: bytes,
               worker: str, only: set[int] | None = None) -> Claimed | None:
    """Claim the oldest queued job (of ``only``, if given) for ``worker``: its id, the spec its
    job process needs, its new job directory and, for a DP job, the document its noise is
    added by; None when nothing is queued."""
    workdir = None
    try:
        with transaction() as session:
            memory.prune(session, policy, data.root)
            claimed = jobs.claim(session, policy, data, worker, only)
            if claimed is None:
                return None
            job, tables = claimed
            key = grant_key(session, job)
            workdir = work_directory(policy, job, key)
            return (job.id, job_spec(data, policy, secret, job, tables, workdir,
                                     grant_key=key), workdir, job.dp)
    except BaseException:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        raise


def work_directory(policy: Policy, job: Job, key: bytes | None) -> Path:
    """A job's own directory: in memory for a real job of a grant encrypted at rest (its spill
    files and its output hold decrypted data), else on the temporary disk."""
    return job_directory(job.id, memory.root(policy) if key is not None else None)


def grant_key(session: Session, job: Job) -> bytes | None:
    """The data key a real job of an encrypted grant writes its stage and output with."""
    return encryption.grant_key(session, job.grant_id) if job.target == "real" else None


def spec_key(spec: dict[str, Any]) -> bytes | None:
    return bytes.fromhex(spec["grant_key"]) if spec.get("grant_key") else None


def run_one(transaction: SessionFactory, policy: Policy, data: Storage, secret: bytes, job_id: int,
            worker: str, should_stop: Callable[[], bool] = lambda: False,
            spares: WarmSpares | None = None) -> str:
    """Run queued job ``job_id`` here, in its own job process (a warm one of ``spares`` if
    given), until it ends; the distributed engine calls this once per delivery. Returns the
    job's final status, "skipped" when the job is not queued (it ran, or was cancelled,
    elsewhere: a second delivery never runs it twice), or "released" when ``should_stop()``
    turned true first (the job is queued again)."""
    claimed = claim_spec(transaction, policy, data, secret, worker, {job_id})
    if claimed is None:
        return "skipped"
    _, spec, workdir, document = claimed
    process = spares.take() if spares else JobProcess(policy.sandbox.job_nice)
    run = Running(job_id, process, workdir, document, spec_key(spec))
    process.start(spec)
    heartbeat, limit = policy.sandbox.heartbeat_seconds, hard_limit(policy.sandbox)
    delay = policy.sandbox.spare_delay_seconds
    last_beat = time.monotonic()

    def warm_next() -> None:
        # The next delivery's process warms while a long job runs (after spare_delay_seconds),
        # or once a short one ended: its start would otherwise take the CPU from the job.
        if spares is not None and not should_stop() and len(spares) < spares.keep:
            spares.refill()

    try:
        while not process.wait(CANCEL_POLL_SECONDS):
            if process.elapsed >= delay:
                warm_next()
            if process.elapsed > limit:
                process.kill()
                return record(transaction, data, policy, worker, run, timed_out(policy.sandbox))
            if should_stop():
                process.kill()
                with transaction() as session:
                    jobs.release(session, worker, job_id, "the worker was stopped")
                return "released"
            if time.monotonic() - last_beat >= heartbeat:
                last_beat = time.monotonic()
                with transaction() as session:
                    cancelled = jobs.heartbeat(session, worker, [job_id])
                if cancelled:
                    process.kill()
                    return record(transaction, data, policy, worker, run,
                                  {"status": "cancelled", "error": "cancelled by request"})
        return record(transaction, data, policy, worker, run, process.outcome())
    finally:
        process.kill()
        shutil.rmtree(workdir, ignore_errors=True)
        warm_next()


def record(transaction: SessionFactory, data: Storage, policy: Policy, worker: str, run: Running,
           outcome: dict[str, Any]) -> str:
    """Record how ``run`` ended (its output moved into the workspace); its final status."""
    produced = run.workdir / OUTPUT_NAME
    if run.dp is not None and outcome.get("status") == "succeeded" and produced.exists():
        # Outside the transaction: the noise takes a moment on large groups.
        outcome = private_output(produced, run.dp, policy, outcome, run.key)
    with transaction() as session:
        job = jobs.complete(session, data, run.job_id, worker, outcome,
                            produced if produced.exists() else None,
                            int(outcome.get("elapsed_ms") or run.process.elapsed * 1000),
                            policy)
        return job.status if job is not None else "skipped"


def private_output(produced: Path, document: dict[str, Any], policy: Policy,
                   outcome: dict[str, Any], key: bytes | None = None) -> dict[str, Any]:
    """Replace a DP job's exact figures by their noisy release; the outcome to record.
    ``key``: the grant's data key, when the output is encrypted."""
    from sandbox import dp
    from vault.files import read_table, write_table

    try:
        spec = dp.stored(document["spec"], policy)
        noisy = dp.privatize(read_table(produced, key), spec, policy)
    except Exception:
        log.exception("the noise of a DP job could not be added")
        produced.unlink(missing_ok=True)
        return {"status": "failed", "error_class": "privacy",
                "error": "the noise could not be added to the job's figures"}
    partial = produced.with_suffix(".noisy")
    write_table(noisy, partial, key)
    os.replace(partial, produced)
    return {**outcome, "rows": noisy.num_rows,
            "schema": [{"name": f.name, "type": str(f.type)} for f in noisy.schema],
            "columns": noisy.schema.names}


def wait_for(read: SessionFactory, job_id: int, timeout: float | None = None,
             interval: float = 0.05) -> Job:
    """Wait until job ``job_id`` reaches a final state (whoever runs it) and return it."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with read() as session:
            job = session.get(Job, job_id)
            if job is not None:
                session.expunge(job)  # keep its loaded state once the read session ends
            if job is None or job.status in FINAL_STATES:
                return job
        if deadline is not None and time.monotonic() > deadline:
            return job
        time.sleep(interval)
