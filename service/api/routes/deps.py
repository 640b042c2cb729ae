"""What a handler receives: the home, the authenticated actor, and the context an action needs.

Every endpoint declares the user action it performs; the permission table (policies.permissions)
says which roles may, and the guard refuses the others before anything else runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from accounts.events import AUTH_FAILED
from accounts.users import ANONYMOUS, BadToken, authenticate
from actions import Context, Dispatcher
from lineage import append
from policies import Actor
from policies.permissions import Action, permit
from service.home import Home
from service.limits import RateLimited

bearer = HTTPBearer(auto_error=False)


# Dependencies that do no I/O are coroutines: FastAPI runs plain functions in its thread pool,
# and under load every hop to a thread waits for the GIL.
async def home_of(request: Request) -> Home:
    return request.app.state.home


HomeDep = Annotated[Home, Depends(home_of)]


def current_actor(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None,
                                         Depends(bearer)]) -> Actor:
    """The token's user. A refused token is logged to the ledger; a client sending too many
    refused tokens, or a token used too often, waits (HTTP 429)."""
    home: Home = request.app.state.home
    limits = request.app.state.limits
    client = request.client.host if request.client else "?"
    if wait := limits.token_failures.wait(client):
        raise RateLimited(f"too many refused API tokens from {client}: wait {wait} s", wait)
    try:
        with home.store.read(autocommit=True) as session:
            actor = authenticate(session, credentials.credentials if credentials else None,
                                 home.policy.api.token_days)
    except BadToken as exc:
        limits.token_failures.hit(client)
        with home.store.transaction() as session:
            append(session, ANONYMOUS, AUTH_FAILED,
                   f"user:{exc.user_id}" if exc.user_id else "user:unknown",
                   {"via": "api", "reason": exc.message.split(":")[0][:80]})
        raise
    if wait := limits.requests.hit(f"user:{actor.id}"):
        raise RateLimited(f"this token made more than {limits.requests.per_minute} requests "
                          f"in a minute: wait {wait} s", wait)
    return actor


def dispatcher(request: Request, background: BackgroundTasks) -> Dispatcher:
    """After a commit: wake this process's job pool (if it runs one); background work runs
    after the response."""
    pool = getattr(request.app.state, "pool", None)
    return Dispatcher(wake=pool.wake if pool is not None else (lambda: None),
                      later=background.add_task)


def acting(action: Action):
    """A dependency: the context of the token's user, once its role may perform ``action``."""
    async def dependency(request: Request, background: BackgroundTasks,
                         actor: Annotated[Actor, Depends(current_actor)]) -> Context:
        permit(actor, action)
        return Context.of(request.app.state.home, actor, dispatcher(request, background))
    return dependency
