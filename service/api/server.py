"""Running the API: one uvicorn process, or several behind one socket (``tds serve
--processes N``).

On SQLite the sweeps (overdue applications and reviews, expired grants, orphaned release
folders) run in a thread of the main process. With several processes, the ones answering HTTP
do nothing else: the local worker pool runs once, in the supervising process, so a job is never
claimed by two pools of the same server and the pool's size stays the policy's. On PostgreSQL
`tds worker` runs jobs and sweeps, and the supervisor only supervises.
"""

from __future__ import annotations

import logging
import threading

import uvicorn
from fastapi import FastAPI

from actions import Context, sweeps
from policies import SYSTEM
from service.api.app import create_app
from service.home import Home

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60.0


def serve(home: Home, host: str, port: int, workers: int | None, processes: int = 1) -> None:
    """Serve until interrupted. ``workers``: job processes of the local pool (default: the
    policy's pool_size on SQLite, none on PostgreSQL)."""
    distributed = home.store.dialect == "postgresql"
    if workers is None:
        workers = 0 if distributed else home.policy.sandbox.pool_size
    stop = threading.Event()
    if not distributed:
        threading.Thread(target=_sweep_until, args=(home, stop), daemon=True,
                         name="tds-sweeper").start()
    if home.data.remote:
        threading.Thread(target=_prune_until, args=(home, stop), daemon=True,
                         name="tds-cache-pruner").start()
    try:
        if processes <= 1:
            uvicorn.run(create_app(home, workers=workers), host=host, port=port,
                        log_level="info")
            return
        pool = home.pool(size=workers).start() if workers > 0 else None
        try:
            # The HTTP processes build their app from the environment (TDS_HOME, ...), which
            # they inherit from this one.
            uvicorn.run("service.api.server:http_only_app", factory=True, workers=processes,
                        host=host, port=port, log_level="info")
        finally:
            if pool is not None:
                pool.stop()
    finally:
        stop.set()


def http_only_app() -> FastAPI:
    """The app of one of several HTTP processes: no worker pool, no sweeps."""
    return create_app(Home.from_env().require_initialized(), workers=0)


def _prune_until(home: Home, stop: threading.Event) -> None:
    """Keep this machine's cache of the object storage in step with it (see Storage.prune)."""
    every = 60.0 * home.policy.workers.cache_prune_minutes
    while True:
        try:
            home.data.prune()
        except Exception:  # the next round tries again; the failure is logged
            log.exception("pruning the storage cache failed")
        if stop.wait(every):
            return


def _sweep_until(home: Home, stop: threading.Event) -> None:
    while not stop.wait(SWEEP_SECONDS):
        try:
            sweep_once(home)
        except Exception:  # keep sweeping; the failure is logged
            log.exception("application sweep failed")


def sweep_once(home: Home) -> None:
    """Overdue applications and egress reviews, expired grants, release folders no committed
    release owns."""
    sweeps.everything(Context.of(home, SYSTEM))
