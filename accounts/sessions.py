"""Console sessions: server-side, keyed by the hash of a random cookie value.

A new value is issued at every sign-in (no session fixation), sign-out deletes the row, and a
session ends after the policy's idle time or maximum age. Each session carries its CSRF token.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import DateTime, ForeignKey, Index, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from accounts import events
from accounts.passwords import check_password
from accounts.users import ANONYMOUS, User
from catalog.models import utcnow
from kernel.base import Base
from lineage import append
from policies import Actor, Policy

# Last-seen times are written at most this often, so reading pages does not write every time.
TOUCH_EVERY = dt.timedelta(seconds=30)


class WebSession(Base):
    __tablename__ = "service_web_sessions"
    __table_args__ = (Index("ix_service_web_sessions_user", "user_id"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("service_users.id"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # A notice for the next page only (a new user's token after the form that created it):
    # sealed with a key from the session's cookie, which the store never holds.
    flash: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class Signed:
    """A live console session: who, its CSRF token, and the cookie value (only at sign-in)."""

    actor: Actor
    csrf: str
    cookie: str | None = None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def sign_in(session: Session, name: str, password: str) -> Signed | None:
    """Check the password and open a new session. A failed attempt returns None and is logged
    to the ledger in ``session``'s transaction (the caller commits it, then refuses)."""
    user = session.scalar(select(User).where(User.name == name[:63]))
    if not check_password(user, password) or user is None or user.status != "active":
        # Never the attempted password, nor an unknown name (it may be a mistyped password).
        append(session, ANONYMOUS, events.AUTH_FAILED, f"user:{user.id}" if user else "user:unknown",
               {"via": "console"})
        return None
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=_digest(cookie), user_id=user.id, csrf=csrf))
    append(session, user.actor(), events.USER_SIGNED_IN, f"user:{user.id}", {"via": "console"})
    return Signed(user.actor(), csrf, cookie)


def lookup(session: Session, policy: Policy, cookie: str | None,
           now: dt.datetime | None = None) -> tuple[Signed | None, bool]:
    """The live session of ``cookie`` (None if none) and whether its last-seen time was renewed
    (the caller commits). Expired sessions are deleted."""
    if not cookie:
        return None, False
    row = session.get(WebSession, _digest(cookie))
    if row is None:
        return None, False
    now = now or utcnow()
    idle = dt.timedelta(minutes=policy.web.idle_minutes)
    age = dt.timedelta(hours=policy.web.session_hours)
    user = session.get(User, row.user_id)
    if now - row.last_seen > idle or now - row.created_at > age or user is None \
            or user.status != "active":
        session.delete(row)
        return None, True
    touched = now - row.last_seen > TOUCH_EVERY
    if touched:
        row.last_seen = now
    return Signed(user.actor(), row.csrf), touched


def sign_out(session: Session, cookie: str | None) -> None:
    if not cookie:
        return
    row = session.get(WebSession, _digest(cookie))
    if row is not None:
        append(session, session.get(User, row.user_id).actor(), events.USER_SIGNED_OUT,
               f"user:{row.user_id}", {"via": "console"})
        session.delete(row)


def end_all(session: Session, user_id: int) -> int:
    """End every console session of a user (after a password change or disabling)."""
    return session.execute(delete(WebSession).where(WebSession.user_id == user_id)).rowcount


def _sealer(cookie: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"tds-flash\0" + cookie.encode("utf-8")).digest())


def put_flash(session: Session, cookie: str | None, value: dict[str, Any]) -> None:
    """Keep ``value`` for the next page of ``cookie``'s session (one page reads it, once)."""
    row = session.get(WebSession, _digest(cookie)) if cookie else None
    if row is None:
        return
    nonce = secrets.token_bytes(12)
    sealed = _sealer(cookie).encrypt(nonce, json.dumps(value).encode("utf-8"), None)
    row.flash = base64.b64encode(nonce + sealed).decode("ascii")


def take_flash(session: Session, cookie: str | None) -> dict[str, Any] | None:
    """The session's notice, removed as it is read; None if there is none (or it is not
    this cookie's)."""
    row = session.get(WebSession, _digest(cookie)) if cookie else None
    if row is None or row.flash is None:
        return None
    raw, row.flash = base64.b64decode(row.flash), None
    try:
        return json.loads(_sealer(cookie).decrypt(raw[:12], raw[12:], None))
    except (InvalidTag, ValueError):
        return None
