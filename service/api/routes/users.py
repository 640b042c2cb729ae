"""/api/v1 users: who am I, users and their tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from actions import Context, views
from actions import users as user_actions
from policies.permissions import Action
from service.api.routes.deps import acting

router = APIRouter(tags=["users"])


@router.get("/me")
def me(ctx: Annotated[Context, Depends(acting(Action.ACCOUNT_READ))]) -> dict[str, Any]:
    actor = ctx.actor
    return {"id": actor.id, "name": actor.name, "role": actor.role.value, "org": actor.org}


class NewUserBody(BaseModel):
    name: str
    role: str
    org: str | None = None
    email: str | None = None


class EmailBody(BaseModel):
    email: str = ""  # "" stops e-mailed notices


@router.post("/users", status_code=201)
def create_user(body: NewUserBody,
                ctx: Annotated[Context, Depends(acting(Action.USER_MANAGE))]) -> views.NewUser:
    """Create a user; the response carries its API token, shown only this once."""
    return user_actions.add(ctx, body.name, body.role, body.org, email=body.email)


@router.post("/me/email")
def my_email(body: EmailBody, ctx: Annotated[Context, Depends(acting(Action.ACCOUNT_READ))]
             ) -> views.AccountUpdate:
    """Where your notices are e-mailed ("" stops them); the ledger records only the change."""
    return user_actions.set_email(ctx, None, body.email)


@router.post("/users/{name}/email")
def user_email(name: str, body: EmailBody,
               ctx: Annotated[Context, Depends(acting(Action.USER_MANAGE))]) -> views.AccountUpdate:
    return user_actions.set_email(ctx, name, body.email)


@router.get("/users")
def users(ctx: Annotated[Context, Depends(acting(Action.USER_MANAGE))]
          ) -> list[views.ListedUser]:
    return user_actions.search(ctx)


@router.post("/me/token")
def my_token(ctx: Annotated[Context, Depends(acting(Action.ACCOUNT_TOKEN))]
             ) -> views.IssuedToken:
    """Rotate your own API token: the response carries the new one (shown only this once);
    the token used for this request stops working at once."""
    return user_actions.rotate_token(ctx)


@router.post("/users/{name}/token")
def user_token(name: str, ctx: Annotated[Context, Depends(acting(Action.USER_MANAGE))]
               ) -> views.IssuedToken:
    """Issue a new API token for a user (e.g. one whose token expired or leaked)."""
    return user_actions.rotate_token(ctx, name)
