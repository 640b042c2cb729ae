"""Deliveries of jobs through procrastinate, written in the caller's own transaction.

A job is queued in the same transaction as its state and its ledger event: the delivery row is
inserted on the SQLAlchemy session's connection, so it commits or rolls back with them. The
``sandbox_jobs`` row stays the truth; a delivery only says "run job N", and running a job that
is no longer queued does nothing, so a delivery that arrives twice never runs a job twice.
"""

from __future__ import annotations

import functools
from typing import Any

from procrastinate import App, PsycopgConnector
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

RUN_JOB = "tds.run_job"
JOBS_QUEUE = "jobs"
PERIODIC_QUEUE = "periodic"
QUEUES = (JOBS_QUEUE, PERIODIC_QUEUE)

# Never opened: it only writes deliveries on connections it is given.
_deferring = App(connector=PsycopgConnector())


def schema_sql() -> str:
    """procrastinate's tables, functions and triggers (applied by the store's migrations)."""
    return SchemaManager.get_schema()


def conninfo(url: str) -> str:
    """A libpq connection string for the store's SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def workspace_lock(grant_id: int) -> str:
    """Jobs of one workspace run one at a time, in the order they were queued."""
    return f"tds-workspace-{grant_id}"


def _connection(session: Session) -> Any:
    return session.connection().connection.driver_connection


def enqueue(session: Session, job: Any) -> int:
    """Deliver ``job`` to the workers, in the session's transaction; returns the delivery id."""
    return _deferring.configure_task(
        RUN_JOB, queue=JOBS_QUEUE, lock=workspace_lock(job.grant_id),
        connection=_connection(session)).defer(job_id=job.id)


def withdraw(session: Session, job: Any) -> None:
    """A cancelled job: its delivery is cancelled if not taken yet, else its worker is asked to
    abort (it also sees the job's cancel request at its next heartbeat)."""
    _deferring.job_manager.cancel_job_by_id(job.dispatch_id, abort=True,
                                            connection=_connection(session))


def install(session: Session) -> None:
    """Make the session's job transitions dispatch through the queue."""
    session.info.update(_hooks())


@functools.cache
def _hooks() -> dict[str, Any]:
    from sandbox.jobs import QUEUED_HOOK, WITHDRAWN_HOOK

    return {QUEUED_HOOK: enqueue, WITHDRAWN_HOOK: withdraw}
