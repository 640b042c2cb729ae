"""Audit search over the ledger: filtered, paged, each event with its verification status."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lineage import merkle
from lineage.errors import LedgerError
from lineage.ledger import LedgerCheckpoint, LedgerEvent, LedgerNode, stamp
from lineage.verify import quick_bytes, slow_bytes

MAX_PAGE = 1000


class BadQuery(LedgerError):
    kind = "invalid"


def _time(value: str | None, name: str) -> str | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadQuery("{name} must be an ISO date or date-time, not {value!r}",
                       name=name, value=value[:40]) from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return stamp(parsed)


def status(event: LedgerEvent, leaf: str | None, covered: int) -> str:
    """verified: content matches its hash and Merkle leaf and a signed checkpoint covers it;
    pending: not in a checkpoint yet; modified: content and hash differ."""
    fields = (event.seq, event.time, event.actor, event.actor_id, event.action, event.subject,
              event.payload)
    link = bytes.fromhex(event.prev_hash) if len(event.prev_hash) == 64 else b""
    data = quick_bytes(*fields)
    if hashlib.sha256(link + data).hexdigest() != event.hash:
        data = slow_bytes(*fields)
        if data is None or hashlib.sha256(link + data).hexdigest() != event.hash:
            return "modified"
    if leaf != merkle.leaf_hash(data).hex():
        return "leaf-mismatch"
    return "verified" if event.seq <= covered else "pending"


def search(session: Session, actor: str | None = None, action: str | None = None,
           subject: str | None = None, since: str | None = None, until: str | None = None,
           before_seq: int | None = None, limit: int = 50) -> dict[str, Any]:
    """A page of events, newest first; ``next_before`` continues with older ones."""
    limit = max(1, min(int(limit), MAX_PAGE))
    query = select(LedgerEvent).order_by(LedgerEvent.seq.desc()).limit(limit + 1)
    if actor:
        query = query.where(LedgerEvent.actor == actor)
    if action:
        query = query.where(LedgerEvent.action.startswith(action.rstrip("*"))
                            if action.endswith("*") else LedgerEvent.action == action)
    if subject:
        query = query.where(LedgerEvent.subject == subject)
    if (start := _time(since, "since")) is not None:
        query = query.where(LedgerEvent.time >= start)
    if (end := _time(until, "until")) is not None:
        query = query.where(LedgerEvent.time < end)
    if before_seq is not None:
        query = query.where(LedgerEvent.seq < before_seq)
    events = list(session.scalars(query))
    more = len(events) > limit
    events = events[:limit]
    leaves = {}
    if events:
        leaves = dict(session.execute(select(LedgerNode.idx, LedgerNode.hash).where(
            LedgerNode.level == 0, LedgerNode.idx.in_([e.seq - 1 for e in events]))).all())
    covered = session.scalar(select(LedgerCheckpoint.size).where(LedgerCheckpoint.root.is_not(None))
                             .order_by(LedgerCheckpoint.size.desc()).limit(1)) or 0
    out = []
    for event in events:
        item = event.as_dict() if _parses(event.payload) else {
            **{k: getattr(event, k) for k in ("seq", "time", "actor", "actor_id", "action",
                                              "subject", "prev_hash", "hash")},
            "payload": None}
        item["status"] = status(event, leaves.get(event.seq - 1), covered)
        out.append(item)
    return {"events": out, "next_before": events[-1].seq if more else None,
            "checkpoint_size": covered}


def _parses(payload: str) -> bool:
    try:
        json.loads(payload)
    except ValueError:
        return False
    return True
