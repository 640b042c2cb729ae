"""Run a ``tds worker`` on the procrastinate queue: job deliveries and periodic tasks."""

from __future__ import annotations

import logging

from sandbox.jobs import worker_name
from sandbox.pool import remove_orphans
from workers.queue import QUEUES
from workers.tasks import Runtime, build

log = logging.getLogger(__name__)


def run(rt: Runtime, concurrency: int) -> None:
    """Take deliveries until SIGINT or SIGTERM; jobs still running are then stopped and queued
    again for another worker (the interrupted attempt does not count)."""
    rt.worker = rt.worker or worker_name()
    sandbox = rt.policy.sandbox
    for path in remove_orphans():
        log.warning("removed %s, left by a worker that died", path)
    app = build(rt)
    app.run_worker(
        queues=list(QUEUES), name=rt.worker, concurrency=concurrency,
        # A stop aborts running jobs at once: they go back to the queue, not to the bin.
        shutdown_graceful_timeout=0.0,
        update_heartbeat_interval=float(sandbox["heartbeat_seconds"]),
        stalled_worker_timeout=float(sandbox["lease_seconds"]),
        abort_job_polling_interval=1.0,
        fetch_job_polling_interval=float(sandbox["heartbeat_seconds"]),
        delete_jobs="successful",
    )
