"""Tables of the sandbox: jobs and the outputs they leave in a workspace."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models import utcnow
from kernel.base import Base
from sandbox.states import ACTIVE_STATES, FINAL_STATES  # noqa: F401 - where callers find them

# A simulated run submitted without a name leaves a draft named after its job; its merchant
# names it when keeping it (``sandbox.jobs.keep``).
DRAFT_PREFIX = "draft_"


class Job(Base):
    __tablename__ = "sandbox_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("catalog_grants.id"), index=True)
    org: Mapped[str] = mapped_column(String(100), index=True)
    submitted_by: Mapped[int | None] = mapped_column(Integer)
    sql: Mapped[str] = mapped_column(Text)
    shape: Mapped[str | None] = mapped_column(String(32))  # gate.shape: the SQL but its literals
    target: Mapped[str] = mapped_column(String(10), default="real")  # real | simulated
    output_name: Mapped[str] = mapped_column(String(63))
    # queued -> running -> succeeded | failed | timed_out | cancelled (running -> queued again
    # when its worker died and attempts are left)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    # What the merchant reads of a failure. For a real-data job whose message could quote the
    # data (DuckDB's own messages do) this is the class and a reference only; the message itself
    # is ``error_detail``, which only the platform's operators (admins) read, and no ledger
    # event carries it.
    error: Mapped[str] = mapped_column(Text, default="")
    error_class: Mapped[str | None] = mapped_column(String(40))
    error_detail: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))  # host:pid:nonce of the running worker
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # The delivery of the job's current attempt in an external queue (procrastinate's job id)
    dispatch_id: Mapped[int | None] = mapped_column(BigInteger)
    sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # table -> provenance
    output_path: Mapped[str | None] = mapped_column(String(500))  # relative to TDS_HOME
    output_sha256: Mapped[str | None] = mapped_column(String(64))
    output_rows: Mapped[int | None] = mapped_column(Integer)
    output_schema: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    # A differentially private job (sandbox.dp): its specification, mechanisms and delta, and
    # the epsilon it spent of its grant's budget (real data only; simulated runs spend none).
    dp: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dp_epsilon: Mapped[float | None] = mapped_column(Float)

    def draft(self) -> bool:
        """A simulated run submitted without a name: its output is named after the job."""
        return self.target == "simulated" and self.output_name.startswith(DRAFT_PREFIX)

    def as_dict(self) -> dict[str, Any]:
        """What a merchant may see of a job: never rows of a real output."""
        return {
            "id": self.id, "grant_id": self.grant_id, "org": self.org, "sql": self.sql,
            "target": self.target, "output_name": self.output_name, "status": self.status,
            "draft": self.draft(), "dp": self.dp,
            "error": self.error or None, "error_class": self.error_class,
            "sources": self.sources, "attempts": self.attempts,
            "cancel_requested": self.cancel_requested,
            "output": None if self.status != "succeeded" else {
                "rows": self.output_rows, "schema": self.output_schema,
                "sha256": self.output_sha256,
            },
            "created_at": _iso(self.created_at), "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at), "duration_ms": self.duration_ms,
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None


class Alert(Base):
    """A security alert for the platform's administrators: a grant's real-data job budget
    spent, or a pattern of jobs that looks like probing real values one query at a time."""

    __tablename__ = "sandbox_alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("catalog_grants.id"), index=True)
    org: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))  # budget_spent | repeated_shape | failures
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # counts and job ids
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    acknowledged_by: Mapped[int | None] = mapped_column(Integer)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "grant_id": self.grant_id, "org": self.org, "kind": self.kind,
                "details": self.details, "created_at": _iso(self.created_at),
                "acknowledged_by": self.acknowledged_by,
                "acknowledged_at": _iso(self.acknowledged_at)}


class OwnData(Base):
    """A merchant's own table in one grant's workspace (sandbox.own_data): its file and its
    simulated preview live under the workspace and go with it."""

    __tablename__ = "sandbox_own_data"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("catalog_grants.id"), index=True)
    org: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(63))  # its table name in the workspace
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | deleted
    path: Mapped[str] = mapped_column(String(500))  # relative to the storage's root
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(BigInteger)
    schema: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    # Per column: the entity the scan found (or None) and its share; never a value.
    pii: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    level: Mapped[str] = mapped_column(String(2))  # set by the scan
    person_key: Mapped[str | None] = mapped_column(String(200))
    source_name: Mapped[str] = mapped_column(String(255))
    preview_status: Mapped[str] = mapped_column(String(20), default="pending")
    uploaded_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    @property
    def columns(self) -> list[str]:
        return [c["name"] for c in self.schema]

    def preview_path(self) -> str:
        return self.path.removesuffix(".parquet") + ".preview.parquet"

    def placeholder_path(self) -> str:
        return self.path.removesuffix(".parquet") + ".placeholder.parquet"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "grant_id": self.grant_id, "org": self.org, "name": self.name,
                "status": self.status, "sha256": self.sha256, "rows": self.rows,
                "bytes": self.bytes, "columns": self.schema,
                "entities": {c["name"]: c["entity"] for c in self.pii if c.get("entity")},
                "level": self.level, "person_key": self.person_key,
                "source_name": self.source_name, "preview_status": self.preview_status,
                "created_at": _iso(self.created_at), "deleted_at": _iso(self.deleted_at)}
