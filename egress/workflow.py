"""The states of an egress request and the moves between them; every move is a ledger event.

    draft -> submitted -> in_review -> returned -> submitted (a new round) ...
    in_review -> approved -> released            (a first vote moves submitted to in_review)
    in_review -> rejected                        (final)
    draft | submitted | in_review | returned -> withdrawn   (final)

A request in review may also be updated by the merchant (submitted again, a new round).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from egress.errors import Conflict
from egress.models import EgressRequest
from lineage import append
from policies import Actor

MOVES: dict[str, tuple[str, ...]] = {
    "draft": ("submitted", "withdrawn"),
    "submitted": ("in_review", "withdrawn"),
    "in_review": ("approved", "rejected", "returned", "submitted", "withdrawn"),
    "returned": ("submitted", "withdrawn"),
    "approved": ("released",),
    "rejected": (), "withdrawn": (), "released": (),
}
FINAL = tuple(state for state, moves in MOVES.items() if not moves)
EVENTS = {"submitted": "egress.submitted", "in_review": "egress.in_review",
          "approved": "egress.approved", "rejected": "egress.rejected",
          "returned": "egress.returned", "withdrawn": "egress.withdrawn",
          "released": "egress.released"}


def move(session: Session, actor: Actor, req: EgressRequest, to: str,
         payload: dict[str, Any] | None = None) -> None:
    """Change the request's state, or refuse a move the state machine does not allow."""
    if to not in MOVES.get(req.status, ()):
        raise Conflict(f"egress request {req.id} is {req.status}; it cannot become {to}")
    before = req.status
    req.status = to
    append(session, actor, EVENTS[to], f"egress:{req.id}",
           {"from": before, "round": req.round, **(payload or {})})
