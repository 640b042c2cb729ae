"""Types of the ids in paths, queries and bodies: whole numbers a database column can hold
(a larger one is refused with 422, never sent to the store)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_ID = 2**63 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]


def parse_id(text: object) -> int | None:
    """An id typed into a form, or None if it is not one."""
    value = str(text or "").strip()
    if not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None
