"""The table of cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models import iso, utcnow
from kernel.base import Base


class Case(Base):
    __tablename__ = "cases_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)  # cases.states.CaseKind
    subject: Mapped[str] = mapped_column(String(100), default="")  # e.g. application:5
    severity: Mapped[str] = mapped_column(String(10), default="")  # incidents only
    opened_by: Mapped[int | None] = mapped_column(Integer)
    org: Mapped[str | None] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    respond_due: Mapped[dt.date] = mapped_column(Date)
    resolve_due: Mapped[dt.date] = mapped_column(Date)
    response: Mapped[str] = mapped_column(Text, default="")
    responded_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolution: Mapped[str] = mapped_column(Text, default="")
    handled_by: Mapped[int | None] = mapped_column(Integer)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "subject": self.subject or None,
                "severity": self.severity or None, "opened_by": self.opened_by, "org": self.org,
                "title": self.title, "description": self.description, "status": self.status,
                "opened_at": iso(self.opened_at), "respond_due": self.respond_due.isoformat(),
                "resolve_due": self.resolve_due.isoformat(), "response": self.response,
                "responded_at": iso(self.responded_at), "resolution": self.resolution,
                "handled_by": self.handled_by, "resolved_at": iso(self.resolved_at)}
