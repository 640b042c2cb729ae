"""One form, one effect. Each console form carries a random key; its first submission reserves
the key and records where it led (the object it created), so a second click, a reload or the
back button's resubmission lands on that object instead of creating another or hitting a
"modified by someone else" conflict."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import DateTime, Integer, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models import utcnow
from kernel.base import Base
from service.errors import Conflict
from service.store import Store

KEEP = dt.timedelta(days=1)  # a form left open longer is submitted afresh
WAIT = 15.0  # seconds a repeat waits for the first submission to finish


class FormKey(Base):
    __tablename__ = "service_form_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    location: Mapped[str | None] = mapped_column(String(500))  # None: still being handled


class StillSending(Conflict):
    pass


def well_formed(key: str) -> bool:
    return 16 <= len(key) <= 64 and key.isascii() and key.isalnum()


def reserve(store: Store, key: str, user_id: int) -> str | None:
    """Reserve ``key`` for its first submission (None), or the page the first submission of
    the same form led to (after waiting for it while it is still being handled)."""
    try:
        with store.transaction() as session:
            session.execute(delete(FormKey).where(FormKey.created_at < utcnow() - KEEP))
            session.add(FormKey(key=key, user_id=user_id))
            session.flush()
        return None
    except Conflict:
        pass
    deadline = time.monotonic() + WAIT
    while True:
        with store.read() as session:
            row = session.get(FormKey, key)
            if row is None:  # the first submission failed and let the key go: try again
                return reserve(store, key, user_id)
            if row.user_id != user_id:
                raise StillSending("this form belongs to another session: reload the page")
            if row.location is not None:
                return row.location
        if time.monotonic() > deadline:
            raise StillSending("this form was already sent and is still being handled: "
                               "wait a moment and reload the page")
        time.sleep(0.2)


def settle(store: Store, key: str, location: str | None) -> None:
    """Record where the first submission led; None: it changed nothing, free the key."""
    with store.transaction() as session:
        row = session.get(FormKey, key)
        if row is None:
            return
        if location is None:
            session.delete(row)
        else:
            row.location = location[:500]
