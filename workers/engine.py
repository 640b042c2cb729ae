"""Run a ``tds worker`` on the procrastinate queue: job deliveries and periodic tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from procrastinate import App

from sandbox.jobs import worker_name
from sandbox.pool import remove_orphans
from sandbox.process import WarmSpares
from workers.queue import QUEUES
from workers.tasks import Runtime, build

log = logging.getLogger(__name__)
# After losing the database, the worker starts again after this wait, doubled each time up to
# the maximum, until the database answers.
RESTART_SECONDS, MAX_RESTART_SECONDS = 1.0, 30.0


def run(rt: Runtime, concurrency: int) -> None:
    """Take deliveries until SIGINT or SIGTERM; jobs still running are then stopped and queued
    again for another worker (the interrupted attempt does not count). A worker that loses the
    database (a restart, a failover) starts again by itself once it is back."""
    rt.worker = rt.worker or worker_name()
    for path in remove_orphans(rt.policy):
        log.warning("removed %s, left by a worker that died", path)
    app = build(rt)
    rt.spares = WarmSpares(concurrency, rt.policy.sandbox.job_nice)
    rt.spares.refill()
    try:
        asyncio.run(_supervise(app, _options(rt, concurrency), rt))
    finally:
        rt.spares.close()


def _options(rt: Runtime, concurrency: int) -> dict[str, Any]:
    sandbox = rt.policy.sandbox
    return {
        "queues": list(QUEUES), "name": rt.worker, "concurrency": concurrency,
        # A stop aborts running jobs at once: they go back to the queue, not to the bin.
        "shutdown_graceful_timeout": 0.0,
        "update_heartbeat_interval": float(sandbox["heartbeat_seconds"]),
        "stalled_worker_timeout": float(sandbox["lease_seconds"]),
        "abort_job_polling_interval": 1.0,
        "fetch_job_polling_interval": float(sandbox["heartbeat_seconds"]),
        "delete_jobs": "successful",
        # Signals are ours: a stop asked by the operator ends the process, while a worker
        # that stopped by itself (its database connection failed) is started again.
        "install_signal_handlers": False,
    }


async def _prune_cache(rt: Runtime, stopping: asyncio.Event) -> None:
    """Keep this machine's cache of the object storage in step with it (see Storage.prune)."""
    every = 60.0 * rt.policy.workers.cache_prune_minutes
    while not stopping.is_set():
        try:
            dropped = await asyncio.to_thread(rt.data.prune)
            if dropped:
                log.info("dropped %d cached files the storage no longer holds", len(dropped))
        except Exception:  # the next round tries again; the failure is logged
            log.exception("pruning the storage cache failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), every)


async def _supervise(app: App, options: dict[str, Any], rt: Runtime) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    pruning = asyncio.create_task(_prune_cache(rt, stopping)) if rt.data.remote else None
    wait = RESTART_SECONDS
    async with app.open_async():
        while not stopping.is_set():
            started = loop.time()
            worker = asyncio.create_task(app.run_worker_async(**options))
            stop = asyncio.create_task(stopping.wait())
            await asyncio.wait({worker, stop}, return_when=asyncio.FIRST_COMPLETED)
            if stopping.is_set():
                worker.cancel()  # procrastinate stops it: running jobs are aborted
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await worker
                break
            stop.cancel()
            if loop.time() - started > MAX_RESTART_SECONDS:
                wait = RESTART_SECONDS  # it had been running well: a new outage starts afresh
            problem = worker.exception() if not worker.cancelled() else None
            log.warning("the worker stopped (%s); it starts again in %.0f s",
                        problem or "its connection to the database failed", wait)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), wait)
            wait = min(wait * 2, MAX_RESTART_SECONDS)
    if pruning is not None:
        await pruning
