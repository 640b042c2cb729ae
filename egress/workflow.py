"""Moves of an egress request between the states of :mod:`egress.states`; every move is a
ledger event."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from egress.errors import Conflict
from egress.events import MOVED
from egress.models import EgressRequest
from egress.states import EGRESS, EgressStatus
from lineage import append
from policies import Actor

FINAL = tuple(sorted(s.value for s in EGRESS.final))
EVENTS = MOVED


def move(session: Session, actor: Actor, req: EgressRequest, to: str,
         payload: dict[str, Any] | None = None) -> None:
    """Change the request's state, or refuse a move the state machine does not allow."""
    target = EgressStatus(to)
    if not EGRESS.allows(req.status, target):
        raise Conflict("egress request {id} is {status}; it cannot become {to}",
                       id=req.id, status=req.status, to=to)
    before = req.status
    req.status = target.value
    append(session, actor, EVENTS[target], f"egress:{req.id}",
           {"from": before, "round": req.round, **(payload or {})})
