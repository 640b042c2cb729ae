"""The hash-chained ledger: events appended in the caller's transaction, signed checkpoints.

Every state change of the platform calls :func:`append` with the session that makes the change,
so the event commits or rolls back with it. Before that transaction commits, :func:`seal` stores a
signed checkpoint (size, head hash); after it commits, :func:`witness` appends the checkpoint to a
file outside the database, so that a truncated or rolled-back database is still detected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from lineage.base import Base
from lineage.canonical import NotCanonical, canonical_bytes
from lineage.errors import LedgerError
from lineage.signing import Signer
from policies.roles import Actor

GENESIS = "0" * 64
_HEAD_KEY = "lineage.head"
_ADVISORY_LOCK = 0x7D5_1ED6  # any constant: serializes appends across PostgreSQL sessions


class LedgerEvent(Base):
    __tablename__ = "ledger_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200), index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "time": self.time, "actor": self.actor, "actor_id": self.actor_id,
            "action": self.action, "subject": self.subject, "payload": json.loads(self.payload),
            "prev_hash": self.prev_hash, "hash": self.hash,
        }


class LedgerCheckpoint(Base):
    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer, index=True)
    head: Mapped[str] = mapped_column(String(64))
    time: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(128))


@dataclass(frozen=True)
class Checkpoint:
    size: int
    head: str
    time: str
    key_id: str
    signature: str

    def signed_bytes(self) -> bytes:
        return checkpoint_bytes(self.size, self.head, self.time)


def checkpoint_bytes(size: int, head: str, time: str) -> bytes:
    return canonical_bytes({"size": size, "head": head, "time": time, "type": "tds-checkpoint"})


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical_bytes(body)).hexdigest()


def _body(seq: int, time: str, actor: str, actor_id: int | None, action: str, subject: str,
          payload: Any) -> dict[str, Any]:
    return {"seq": seq, "time": time, "actor": actor, "actor_id": actor_id, "action": action,
            "subject": subject, "payload": payload}


def _head(session: Session) -> tuple[int, str]:
    cached = session.info.get(_HEAD_KEY)
    if cached is not None:
        return cached
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
    row = session.execute(
        select(LedgerEvent.seq, LedgerEvent.hash).order_by(LedgerEvent.seq.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def append(session: Session, actor: Actor, action: str, subject: str,
           payload: dict[str, Any] | None = None) -> LedgerEvent:
    """Append one event in ``session``'s transaction. Payloads refer to people by id only."""
    payload = payload or {}
    seq, prev = _head(session)
    seq += 1
    time = now_iso()
    body = _body(seq, time, actor.name, actor.id, action, subject, payload)
    try:
        digest = event_hash(prev, body)
    except NotCanonical as exc:
        raise LedgerError(f"event payload of {action} is not canonical: {exc}") from exc
    event = LedgerEvent(
        seq=seq, time=time, actor=actor.name, actor_id=actor.id, action=action, subject=subject,
        payload=canonical_bytes(payload).decode("utf-8"), prev_hash=prev, hash=digest,
    )
    session.add(event)
    session.info[_HEAD_KEY] = (seq, digest)
    return event


def forget_head(session: Session) -> None:
    """Drop the cached head (after a commit or rollback the next append re-reads it)."""
    session.info.pop(_HEAD_KEY, None)


def seal(session: Session, signer: Signer) -> Checkpoint | None:
    """Store a signed checkpoint of the events this transaction appended (None if none)."""
    head = session.info.get(_HEAD_KEY)
    if head is None:
        return None
    size, digest = head
    time = now_iso()
    cp = Checkpoint(size, digest, time, signer.key_id, signer.sign(checkpoint_bytes(size, digest, time)))
    session.add(LedgerCheckpoint(**asdict(cp)))
    return cp


def witness(path: Path, checkpoint: Checkpoint) -> None:
    """Append a committed checkpoint to the witness file (one JSON object a line), durably."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(checkpoint), sort_keys=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_witness(path: Path) -> tuple[list[Checkpoint], list[str]]:
    """Checkpoints of the witness file, and problems with lines that do not parse."""
    if not path.exists():
        return [], []
    found, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append(Checkpoint(**json.loads(line)))
        except (ValueError, TypeError) as exc:
            problems.append(f"witness file line {number} is malformed: {exc}")
    return found, problems

