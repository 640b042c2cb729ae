"""Users, organizations and API tokens (stored only as hashes)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from accounts import events
from accounts.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from catalog.models import utcnow
from catalog.names import identifier, text
from kernel.base import Base
from lineage import append
from policies import Actor, Forbidden, Role
from policies.permissions import Action, permit
from policies.roles import ORG_ROLES

TOKEN_PREFIX = "tds_"
# The ledger's actor for events of nobody signed in (failed sign-ins); it never authorizes.
ANONYMOUS = Actor(None, "anonymous", Role.MERCHANT)


class Organization(Base):
    __tablename__ = "service_organizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class User(Base):
    __tablename__ = "service_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("service_organizations.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="active")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    token_issued_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    email: Mapped[str | None] = mapped_column(String(254))  # where notices go, if anywhere
    org: Mapped[Organization | None] = relationship()

    def actor(self) -> Actor:
        return Actor(self.id, self.name, Role(self.role), self.org.name if self.org else None)

    def token_expires(self, days: int) -> dt.datetime:
        return (self.token_issued_at or self.created_at) + dt.timedelta(days=days)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "role": self.role,
                "org": self.org.name if self.org else None, "status": self.status,
                "email": self.email,
                "created_at": self.created_at.isoformat(timespec="seconds") + "Z",
                "token_issued_at": (self.token_issued_at or self.created_at).isoformat(
                    timespec="seconds") + "Z"}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(session: Session, actor: Actor, name: str, role: str,
             org: str | None = None) -> tuple[User, str]:
    """Create a user; return it with its API token, which is shown only this once."""
    permit(actor, Action.USER_MANAGE)
    name = identifier(name, "user name", 63)
    try:
        role_ = Role(role)
    except ValueError:
        raise InvalidInput("role must be one of {role}", role=', '.join(r.value for r in Role)) from None
    if role_ in ORG_ROLES and not org:
        raise InvalidInput("a {role} must belong to an organization (--org)", role=role_.value)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict("a user named {name!r} exists already", name=name)
    organization = None
    if org:
        org = text(org, "organization", 100)
        organization = session.scalar(select(Organization).where(Organization.name == org))
        if organization is None:
            organization = Organization(name=org)
            session.add(organization)
            session.flush()
            append(session, actor, events.ORG_CREATED, f"org:{organization.id}", {"name": org})
    token = new_token()
    user = User(name=name, role=role_.value, org=organization, token_hash=hash_token(token),
                token_issued_at=utcnow())
    session.add(user)
    session.flush()
    append(session, actor, events.USER_CREATED, f"user:{user.id}",
           {"role": role_.value, "org_id": organization.id if organization else None})
    return user, token


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class BadToken(Unauthenticated):
    """A token was presented and refused; ``user_id`` when it was a real user's."""

    def __init__(self, message: str, user_id: int | None = None) -> None:
        super().__init__(message)
        self.user_id = user_id


def authenticate(session: Session, token: str | None, token_days: int | None = None) -> Actor:
    """The user of ``token``; tokens expire ``token_days`` after they were issued."""
    if not token:
        raise Unauthenticated("no API token: set TDS_TOKEN or pass --token (API: Bearer token)")
    digest = hash_token(token.strip())
    # The organization in the same query: this runs on every API request.
    user = session.scalar(select(User).options(joinedload(User.org))
                          .where(User.token_hash == digest))
    if user is None or not hmac.compare_digest(user.token_hash, digest):
        raise BadToken("the API token is not valid")
    if user.status != "active":
        raise BadToken("this user is disabled", user.id)
    if token_days is not None and utcnow() >= user.token_expires(token_days):
        raise BadToken(f"the API token expired on {user.token_expires(token_days):%Y-%m-%d}: "
                       "ask an administrator for a new one (tds user token NAME), or rotate it "
                       "before it expires (POST /api/v1/me/token)", user.id)
    return user.actor()


def token_view(user: User, token: str, days: int) -> dict[str, Any]:
    """A user with a token just issued (shown only this once) and when it expires."""
    return user.as_dict() | {"token": token, "token_expires_at": user.token_expires(
        days).isoformat(timespec="seconds") + "Z"}


def rotate_token(session: Session, actor: Actor, name: str) -> tuple[User, str]:
    """Issue a new API token for ``name`` (an administrator, or the user themselves); the old
    one stops working at once. The new token is returned only this once."""
    user = get_user(session, name)
    if actor.role != Role.ADMIN and actor.id != user.id:
        raise Forbidden("only an administrator or the user themselves may rotate a token")
    token = new_token()
    user.token_hash, user.token_issued_at = hash_token(token), utcnow()
    append(session, actor, events.USER_TOKEN_ROTATED, f"user:{user.id}", {})
    return user, token


def set_status(session: Session, actor: Actor, name: str, active: bool) -> User:
    """Disable a user (its token and console sessions stop working) or enable it again."""
    permit(actor, Action.USER_MANAGE)
    user = get_user(session, name)
    if actor.id is not None and user.id == actor.id and not active:
        raise InvalidInput("you cannot disable yourself; ask another administrator")
    status = "active" if active else "disabled"
    if user.status != status:
        user.status = status
        append(session, actor, events.USER_ENABLED if active else events.USER_DISABLED, f"user:{user.id}", {})
    return user


EMAIL = re.compile(r"[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,63}\Z")


def set_email(session: Session, actor: Actor, name: str, email: str) -> User:
    """Set (or with "" remove) where a user's notices are e-mailed: administrators for anyone,
    a user for themself. The ledger records that it changed, never the address."""
    permit(actor, Action.ACCOUNT_READ)
    user = get_user(session, name)
    if actor.role != Role.ADMIN and actor.id != user.id:
        raise Forbidden("only an administrator or the user themselves may set an e-mail address")
    email = (email or "").strip()
    if email and not EMAIL.match(email):
        raise InvalidInput("{email!r} is not an e-mail address", email=email[:80])
    if (email or None) != user.email:
        user.email = email or None
        append(session, actor, events.USER_EMAIL_SET, f"user:{user.id}", {})
    return user


def list_organizations(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Organizations with their members per role."""
    permit(actor, Action.USER_MANAGE)
    rows = []
    for org in session.scalars(select(Organization).order_by(Organization.name)):
        members = session.scalars(select(User).where(User.org_id == org.id)).all()
        rows.append({"id": org.id, "name": org.name,
                     "created_at": org.created_at.isoformat(timespec="seconds") + "Z",
                     "members": {role.value: sorted(u.name for u in members if u.role == role.value)
                                 for role in Role if any(u.role == role.value for u in members)}})
    return rows


def list_users(session: Session, actor: Actor) -> list[User]:
    permit(actor, Action.USER_MANAGE)
    return list(session.scalars(select(User).order_by(User.id)))


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound("no user {name!r}", name=name)
    return user
