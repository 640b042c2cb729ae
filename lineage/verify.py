"""Ledger verification: recompute the hash chain and hold it against signed checkpoints."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from lineage import signing
from lineage.canonical import NotCanonical
from lineage.ledger import (
    GENESIS,
    Checkpoint,
    LedgerCheckpoint,
    LedgerEvent,
    _body,
    event_hash,
    read_witness,
)

_MAX_PROBLEMS = 100


@dataclass
class Verification:
    valid: bool = True
    events: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def problem(self, message: str) -> None:
        self.valid = False
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(message)

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "events": self.events, "checkpoints": self.checkpoints,
                "problems": self.problems, "warnings": self.warnings}


def verify_ledger(session: Session, public: Ed25519PublicKey, witness_path: Path) -> Verification:
    """Check every event's chain link and hash, and every checkpoint in the database and file."""
    result = Verification()
    hashes: dict[int, str] = {}
    expected_seq, prev = 1, GENESIS
    rows = session.execute(select(LedgerEvent).order_by(LedgerEvent.seq)).scalars()
    for event in rows.yield_per(5000):
        result.events += 1
        if event.seq != expected_seq:
            result.problem(
                f"event {expected_seq} is missing or out of order (found {event.seq} in its place)"
            )
        if event.prev_hash != prev:
            result.problem(f"event {event.seq} does not link to the event before it")
        try:
            payload = json.loads(event.payload)
            body = _body(event.seq, event.time, event.actor, event.actor_id, event.action,
                         event.subject, payload)
            recomputed = event_hash(event.prev_hash, body)
        except (ValueError, NotCanonical):
            recomputed = None
        if recomputed != event.hash:
            result.problem(f"event {event.seq} was modified (its hash does not match its content)")
        hashes[event.seq] = event.hash
        prev = event.hash
        expected_seq = event.seq + 1

    stored = [
        Checkpoint(c.size, c.head, c.time, c.key_id, c.signature)
        for c in session.execute(select(LedgerCheckpoint).order_by(LedgerCheckpoint.id)).scalars()
    ]
    witnessed, witness_problems = read_witness(witness_path)
    for message in witness_problems:
        result.problem(message)
    key = signing.key_id(public)
    by_size: dict[int, str] = {}
    for origin, checkpoints in (("database", stored), ("witness file", witnessed)):
        for cp in checkpoints:
            result.checkpoints += 1
            _check_checkpoint(result, cp, origin, key, public, hashes, by_size)
    stored_sizes = {cp.size for cp in stored}
    witnessed_size = max((w.size for w in witnessed), default=0)
    behind = [cp.size for cp in stored if cp.size > witnessed_size]
    if behind:
        result.warnings.append(
            f"{len(behind)} checkpoint(s) in the database are not in the witness file yet"
        )
    missing = [cp.size for cp in witnessed if cp.size not in stored_sizes]
    if missing:
        result.problem(
            f"{len(missing)} witnessed checkpoint(s) are missing from the database "
            f"(first at size {missing[0]})"
        )
    return result


def _check_checkpoint(result: Verification, cp: Checkpoint, origin: str, key: str,
                      public: Ed25519PublicKey, hashes: dict[int, str],
                      by_size: dict[int, str]) -> None:
    where = f"{origin} checkpoint at size {cp.size}"
    if cp.key_id != key or not signing.verify(public, cp.signed_bytes(), cp.signature):
        result.problem(f"{where} has a bad signature or an unknown key")
        return
    if by_size.setdefault(cp.size, cp.head) != cp.head:
        result.problem(f"two different heads were signed for size {cp.size}")
    if cp.size > result.events:
        result.problem(
            f"ledger truncated: the {where} covers {cp.size} events, the ledger holds "
            f"{result.events}"
        )
    elif hashes.get(cp.size) != cp.head:
        result.problem(f"the {where} does not match event {cp.size}")
