"""Account actions: users, organizations, API tokens and console passwords."""

from __future__ import annotations

from typing import Any

from accounts import passwords, sessions
from accounts import users as accounts
from actions.context import Context
from actions.views import AccountUpdate, IssuedToken, ListedUser, NewUser
from policies.permissions import Action, permit


def add(ctx: Context, name: str, role: str, org: str | None,
        password: str | None = None, email: str | None = None) -> dict[str, Any]:
    """A new user with its API token (shown only this once) and, if given, its console
    password and notice e-mail address: all or none."""
    permit(ctx.actor, Action.USER_MANAGE)
    with ctx.transaction() as session:
        user, token = accounts.add_user(session, ctx.actor, name, role, org)
        if password:
            passwords.set_password(session, ctx.actor, ctx.policy, user.name, password)
        if email:
            accounts.set_email(session, ctx.actor, user.name, email)
        return NewUser.of(user.as_dict() | {"token": token})


def search(ctx: Context) -> list[dict[str, Any]]:
    permit(ctx.actor, Action.USER_MANAGE)
    with ctx.read() as session:
        return [_listed(u) for u in accounts.list_users(session, ctx.actor)]


def _listed(user: accounts.User) -> dict[str, Any]:
    return ListedUser.of(user.as_dict() | {"has_password": bool(user.password_hash)})


def organizations(ctx: Context) -> list[dict[str, Any]]:
    """Organizations with their members per role."""
    permit(ctx.actor, Action.USER_MANAGE)
    with ctx.read() as session:
        return accounts.list_organizations(session, ctx.actor)


def rotate_token(ctx: Context, name: str | None = None) -> dict[str, Any]:
    """A new API token for ``name`` (administrators) or for the actor (None); the old one
    stops working at once."""
    permit(ctx.actor, Action.ACCOUNT_TOKEN if name is None else Action.USER_MANAGE)
    with ctx.transaction() as session:
        user, token = accounts.rotate_token(session, ctx.actor, name or ctx.actor.name)
        return IssuedToken.of(accounts.token_view(user, token, ctx.policy.api.token_days))


def set_password(ctx: Context, name: str, password: str) -> dict[str, Any]:
    """Set a user's console password; the user's console sessions end (``sessions_ended``)."""
    permit(ctx.actor, Action.USER_MANAGE)
    with ctx.transaction() as session:
        user = passwords.set_password(session, ctx.actor, ctx.policy, name, password)
        ended = sessions.end_all(session, user.id)
        return AccountUpdate.of(user.as_dict() | {"sessions_ended": ended})


def me(ctx: Context) -> dict[str, Any]:
    """The actor's own account (with where its notices are e-mailed)."""
    permit(ctx.actor, Action.ACCOUNT_READ)
    with ctx.read() as session:
        return _listed(accounts.get_user(session, ctx.actor.name))


def set_email(ctx: Context, name: str | None, email: str) -> dict[str, Any]:
    """Where notices of ``name`` (None: the actor) are e-mailed; "" stops e-mails."""
    permit(ctx.actor, Action.ACCOUNT_READ)
    with ctx.transaction() as session:
        user = accounts.set_email(session, ctx.actor, name or ctx.actor.name, email)
        return AccountUpdate.of(user.as_dict() | {"sessions_ended": 0})


def set_active(ctx: Context, name: str, active: bool) -> dict[str, Any]:
    """Enable a user, or disable it: its token and console sessions stop working."""
    permit(ctx.actor, Action.USER_MANAGE)
    with ctx.transaction() as session:
        user = accounts.set_status(session, ctx.actor, name, active)
        ended = 0 if active else sessions.end_all(session, user.id)
        return AccountUpdate.of(user.as_dict() | {"sessions_ended": ended})
