"""The declarative base every package's tables share, their clock (naive UTC), and the
transaction hooks (work to do after a commit or a rollback) every package registers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import DeclarativeBase


def utcnow() -> dt.datetime:
    """Naive UTC: every timestamp of the store is naive UTC, on SQLite and PostgreSQL alike."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


def on_rollback(session, callback) -> None:
    """Run ``callback`` if ``session``'s transaction rolls back (e.g. remove a file it wrote).

    The shell's transaction helper calls these; domain code registers them next to any file it
    writes before the database change commits, so a failure leaves no half-written state.
    """
    session.info.setdefault("on_rollback", []).append(callback)


def after_commit(session, callback) -> None:
    """Run ``callback`` once ``session``'s transaction has committed (e.g. delete retired files)."""
    session.info.setdefault("after_commit", []).append(callback)
