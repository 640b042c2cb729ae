"""The registry of ledger event types: each package declares the actions it logs, with the kind
of subject they are about, in its own ``events`` module; :func:`lineage.append` refuses an
action nobody declared or a subject of another kind. Reports read the same constants, so an
event's name is written once."""

from __future__ import annotations

from dataclasses import dataclass

from lineage.errors import LedgerError


@dataclass(frozen=True)
class EventType:
    action: str
    subject: str  # the kind of subject: the part of ``kind:id`` before the colon
    help: str


REGISTRY: dict[str, EventType] = {}


def event(action: str, subject: str, help: str) -> str:
    """Declare an event type; returns its action, the constant code logs and reports read."""
    known = REGISTRY.get(action)
    if known is not None and (known.subject != subject):
        raise ValueError(f"ledger action {action!r} is declared twice, about different subjects")
    REGISTRY[action] = EventType(action, subject, help)
    return action


def checked(action: str, subject: str) -> EventType:
    """The declared type of ``action``, once ``subject`` is of its kind."""
    declared = REGISTRY.get(action)
    if declared is None:
        raise LedgerError(f"ledger action {action!r} is not a declared event type")
    kind = subject.split(":", 1)[0]
    if kind != declared.subject:
        raise LedgerError(f"ledger action {action!r} is about {declared.subject} subjects, "
                          f"not {subject!r}")
    return declared


# The ledger's own events.
LEDGER_ARCHIVED = event("ledger.archived", "ledger_month", "a month sealed into an archive")
LEDGER_PURGED = event("ledger.purged", "ledger", "archived events past retention deleted")
KEY_ROTATED = event("ledger.key_rotated", "key", "the platform key replaced, signed by the old")
