"""/api/v1 to-dos and notices of the caller."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from actions import Context
from actions import notices as notice_actions
from policies.permissions import Action
from service.api.routes.deps import acting

router = APIRouter(tags=["notices"])
Reader = Annotated[Context, Depends(acting(Action.ACCOUNT_READ))]


@router.get("/todo")
def todo(ctx: Reader) -> list[dict[str, Any]]:
    """What waits for you, by kind: how many, how many are due soon, the nearest due date."""
    return notice_actions.todos(ctx)


@router.get("/notices")
def notices(ctx: Reader, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[dict[str, Any]]:
    """Events on your work, newest first (kinds and ids, never data); ``unread`` marks new ones."""
    return notice_actions.notices(ctx, limit)


@router.post("/notices/read")
def notices_read(ctx: Reader) -> dict[str, int]:
    """Mark every notice so far read."""
    return notice_actions.read_all(ctx)
