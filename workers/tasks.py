"""What ``tds worker`` runs: the job task and the periodic tasks, on a procrastinate app.

Every task is safe to run twice: the job task runs a job only if it is still queued, and the
periodic tasks act only on what is due. Each commits its state changes with their ledger events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.jobs import Status
from sqlalchemy.orm import Session

from actions import notices as notice_actions
from actions import sweeps
from actions.context import Context, SessionPair
from lineage.ledger import copy_witness
from policies import SYSTEM, Policy
from sandbox import jobs
from sandbox.pool import run_one
from sandbox.process import WarmSpares
from storage import Storage
from workers.queue import JOBS_QUEUE, PERIODIC_QUEUE, RUN_JOB, conninfo

log = logging.getLogger(__name__)
SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass
class Runtime:
    """What the tasks need of a home: sessions, policy, where data lives, secrets."""

    url: str
    transaction: SessionFactory
    read: SessionFactory
    policy: Policy
    data: Storage       # datasets, previews, workspaces: storage every worker reaches
    secret: bytes       # the pseudonym secret grants' keys derive from
    witness_path: Path  # this worker's copy of the ledger's checkpoints
    worker: str = ""
    stopping: Callable[[], bool] = field(default=lambda: False)
    spares: WarmSpares | None = None  # warm job processes for the next deliveries


def build(rt: Runtime) -> App:
    """A procrastinate app whose tasks work on ``rt``."""
    settings = rt.policy.workers
    app = App(connector=PsycopgConnector(conninfo=conninfo(rt.url)))
    retry = RetryStrategy(max_attempts=settings.task_retries,
                          exponential_wait=settings.retry_wait_seconds)

    @app.task(name=RUN_JOB, queue=JOBS_QUEUE, pass_context=True, retry=retry)
    def run_job(context: JobContext, job_id: int) -> str:
        status = run_one(rt.transaction, rt.policy, rt.data, rt.secret, job_id, rt.worker,
                         should_stop=lambda: rt.stopping() or context.should_abort(),
                         spares=rt.spares)
        log.info("job %s: %s", job_id, status)
        return status

    def periodic(name: str, cron_key: str):
        def register(func: Callable[[], object]) -> None:
            @app.periodic(cron=getattr(settings, cron_key), periodic_id=name)
            @app.task(name=f"tds.{name}", queue=PERIODIC_QUEUE, queueing_lock=f"tds.{name}",
                      retry=retry)
            def task(timestamp: int) -> object:
                return func()
        return register

    @app.periodic(cron=settings.recover_cron, periodic_id="recover_jobs")
    @app.task(name="tds.recover_jobs", queue=PERIODIC_QUEUE, queueing_lock="tds.recover_jobs",
              retry=retry)
    async def recover_jobs(timestamp: int) -> list[int]:
        """Deliveries of workers that died stop holding their workspace's lock; their jobs,
        silent past the lease, are queued again (a new delivery) or failed with the reason
        once their attempts are spent."""
        lease = float(rt.policy.sandbox.lease_seconds)
        for stalled in await app.job_manager.get_stalled_jobs(
                task_name=RUN_JOB, seconds_since_heartbeat=lease):
            log.warning("delivery %s of a stopped worker is given up", stalled.id)
            await app.job_manager.finish_job(stalled, status=Status.FAILED, delete_job=False)
        return await asyncio.to_thread(_recover)

    def _recover() -> list[int]:
        with rt.transaction() as session:
            return [job.id for job in jobs.recover(session, rt.policy)]

    system = Context(SYSTEM, SessionPair(rt.transaction, rt.read), rt.policy, rt.data)

    @periodic("sweep", "sweep_cron")
    def sweep() -> dict[str, list]:
        done: dict[str, list] = dict(sweeps.overdue(system))
        done["orphan_releases"] = sweeps.orphan_releases(system)
        done["qualified"] = sweeps.qualifications(system)
        done["mailed"] = notice_actions.send_digests(system)
        return done

    @periodic("expire_grants", "grant_expiry_cron")
    def expire_grants() -> list[int]:
        return sweeps.expired_grants(system)

    @periodic("copy_witness", "witness_cron")
    def witness() -> int:
        with rt.read() as session:
            return copy_witness(session, rt.witness_path)

    return app
