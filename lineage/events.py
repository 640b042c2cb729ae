"""The registry of ledger event types: each package declares the actions it logs, with the kind
of subject they are about and the model of their payload, in its own ``events`` module.
:func:`lineage.append` refuses an action nobody declared, a subject of another kind and a
payload its model does not allow: the ledger is kept five years, so a payload holds ids,
hashes, counts, codes and the names of things, never values of the data or free text. Reports
read the same constants, so an event's name is written once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from lineage.errors import LedgerError


class Payload(BaseModel):
    """The fields an event's payload may hold; any other field is refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class Empty(Payload):
    """An event whose action and subject say it all."""


@dataclass(frozen=True)
class EventType:
    action: str
    subject: str  # the kind of subject: the part of ``kind:id`` before the colon
    help: str
    payload: type[Payload] = Empty


REGISTRY: dict[str, EventType] = {}


def event(action: str, subject: str, help: str, payload: type[Payload] = Empty) -> str:
    """Declare an event type; returns its action, the constant code logs and reports read."""
    known = REGISTRY.get(action)
    if known is not None and (known.subject, known.payload) != (subject, payload):
        raise ValueError(f"ledger action {action!r} is declared twice, differently")
    REGISTRY[action] = EventType(action, subject, help, payload)
    return action


def checked(action: str, subject: str, payload: dict[str, Any] | None = None) -> EventType:
    """The declared type of ``action``, once ``subject`` is of its kind and ``payload`` fits
    its model. The refusal names the fields, never their values."""
    declared = REGISTRY.get(action)
    if declared is None:
        raise LedgerError(f"ledger action {action!r} is not a declared event type")
    kind = subject.split(":", 1)[0]
    if kind != declared.subject:
        raise LedgerError(f"ledger action {action!r} is about {declared.subject} subjects, "
                          f"not {subject!r}")
    try:
        declared.payload.model_validate(payload or {})
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "(payload)" for e in exc.errors()})
        raise LedgerError(f"payload of ledger action {action!r} does not fit its model "
                          f"({declared.payload.__name__}): {', '.join(fields)}") from None
    return declared


class Archived(Payload):
    first_seq: int
    last_seq: int
    count: int
    sha256: str
    root: str


class Purged(Payload):
    months: list[str]
    events: int
    ranges: list[list[int]]


class Rotated(Payload):
    old_key_id: str
    new_key_id: str
    new_public_key: str
    signature: str


# The ledger's own events.
LEDGER_ARCHIVED = event("ledger.archived", "ledger_month", "a month sealed into an archive",
                        Archived)
LEDGER_PURGED = event("ledger.purged", "ledger", "archived events past retention deleted", Purged)
KEY_ROTATED = event("ledger.key_rotated", "key", "the platform key replaced, signed by the old",
                    Rotated)
