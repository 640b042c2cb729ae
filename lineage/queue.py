"""Group commit of ledger events: a state change queues its events in its own transaction, and a
sequencer chains whatever is queued into the ledger in one transaction of its own.

A state change and its events still commit together: the queued row commits or rolls back with
the change. What the queue spares is the ledger's write lock and its checkpoint: chaining an
event needs the previous event's hash, so appends are serialized, and on PostgreSQL a lock held
through a commit is held through that commit's WAL flush. Queued, state changes commit side by
side (the database flushes them together), and one sequencer pass chains the events of every
transaction that committed before it began: one head read, one batch of rows and Merkle nodes,
one signed checkpoint and one sync of the witness file for all of them (as Trillian's
sequencer integrates queued leaves), in three round trips: the lock, the head and the queue;
the rows with their checkpoint; the commit.

:class:`service.store.Store` lets a transaction that is its process's only writer chain the
queue itself before it commits when it finds the ledger's lock free (:func:`chain_if_free`),
so a lone writer pays for one transaction, as before. Otherwise the transaction commits with
its events queued, and the store runs a pass and returns only once a pass that began after
that commit has ended. Either way a caller that got an answer has its events chained,
checkpointed and witnessed.

SQLite has one writer at a time whatever the ledger does, so there a pass in a transaction of
its own would only add one. Writers take turns with the write lock instead: one that has
others waiting behind it commits with its events queued (a short transaction: no head read,
no signature), and the last in line chains the queue in its own transaction
(:func:`chain_held`) with one checkpoint for the group; those that queued get their answer
once it is witnessed. The syncs of the write-ahead log and the witness file are shared as
well (:func:`lineage.ledger.witness`).

Queued events are chained in queue order and take the time of the pass that chains them, so
event times never decrease along the ledger.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.base import Base
from lineage import ledger, merkle
from lineage.ledger import (
    ADVISORY_LOCK,
    DIRECT,
    HEAD_KEY,
    LOCKED,
    QUEUED_ROWS,
    SEALED,
    TREE_KEY,
    chain_hash,
    driver,
    event_body,
    event_bytes,
    forget_head,
    locked_head,
)
from lineage.signing import Signer

QUEUE = "lineage.queue"  # session.info: events of this transaction may be queued
QUEUED = "lineage.queued"  # session.info: this transaction queued events not chained yet
CHAINED = "lineage.chained"  # session.info: this transaction took the queue and chained it
BATCH = 5_000  # events chained per statement batch


class LedgerQueued(Base):
    """An event committed with its state change, waiting for the sequencer to chain it."""

    __tablename__ = "ledger_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[str] = mapped_column(String(32))  # when it was queued
    actor: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON


def enqueue(session: Session, row: dict[str, Any]) -> None:
    """Queue one checked event (``row``: actor, actor_id, action, subject, canonical payload)."""
    rows = driver(session)
    with rows.batch():  # with the transaction's BEGIN if it is its first statement
        rows.many("enqueue", [(_clock(), row["actor"], row["actor_id"], row["action"],
                               row["subject"], row["payload"])])
    session.info[QUEUED] = True


def chain_if_free(session: Session) -> bool:
    """Before the commit of a transaction that queued events: when no other transaction holds
    the ledger's lock, chain the queue in this one (no second transaction, no wait); True if
    it did. Under contention the events stay queued for a pass after the commit."""
    if not session.info.get(QUEUED) or session.info.get(DIRECT):
        return False
    rows = driver(session)
    if rows.dialect.name == "postgresql" and not rows.run("try_lock", (ADVISORY_LOCK,))[0][0]:
        return False
    # SQLite: this transaction holds the database's write lock already.
    session.info[LOCKED] = True
    sequence(session)
    return True


def chain_held(session: Session) -> None:
    """SQLite: chain the queue in this transaction, which holds the database's write lock, for
    this process's transactions that committed with their events queued (and this one's).
    The head is sealed even when another process chained everything queued: this process's
    writers get a checkpoint of their events in its witness file before their answer."""
    session.info[LOCKED] = True
    sequence(session, seal_head=True)


def sequence(session: Session, *, seal_head: bool = False,
             signer: Signer | Callable[[], Signer] | None = None,
             origin: str | Callable[[], str] = "") -> int:
    """Chain every queued event into the ledger in ``session``'s transaction (the caller seals
    and commits it); returns how many were chained. ``seal_head``: with nothing queued, leave
    the head for the caller to seal all the same (a writer whose events another process
    chained gets a checkpoint of them in its own witness file). With a ``signer``, the
    checkpoint is stored with the events, in the same round trip on PostgreSQL (the
    caller's :func:`lineage.ledger.seal` then returns it)."""
    # Taken off the queue under the ledger's write lock (no other pass takes the same rows)
    # and chained in queue order (by id).
    seq, prev = locked_head(session, dequeue=True)
    rows = driver(session)
    taken = session.info.pop(QUEUED_ROWS, None)
    queued = sorted(rows.run("dequeue") if taken is None else taken)
    session.info.pop(QUEUED, None)  # this transaction's own queued events among them
    session.info[CHAINED] = True
    if not queued:
        if not session.info.get(DIRECT) and not seal_head:
            forget_head(session)  # nothing chained: nothing for this transaction to seal
        return 0
    tree: merkle.Frontier = session.info[TREE_KEY]
    time = ledger.now_iso()
    events, nodes = [], []
    for _id, actor, actor_id, action, subject, payload in queued:
        seq += 1
        data = event_bytes(event_body(seq, time, actor, actor_id, action, subject,
                                      json.loads(payload)))
        digest = chain_hash(prev, data)
        events.append((seq, time, actor, actor_id, action, subject, payload, prev, digest))
        nodes.extend((level, idx, h.hex())
                     for level, idx, h in tree.add(merkle.leaf_hash(data)))
        prev = digest
    session.info[HEAD_KEY] = (seq, prev)
    with rows.batch():  # PostgreSQL: one round trip for all of them
        for start in range(0, len(events), BATCH):
            rows.many("event", events[start:start + BATCH])
        for start in range(0, len(nodes), BATCH):
            rows.many("node", nodes[start:start + BATCH])
        if signer is not None:
            sealed = session.info[SEALED] = ledger.checkpoint(session, signer, origin)
            rows.many("checkpoint", [ledger.checkpoint_row(sealed)])
    return len(events)


def _clock() -> str:
    # Not ledger.now_iso: that clock stamps events when they are chained.
    return ledger.stamp(dt.datetime.now(dt.UTC))


def waiting(session: Session) -> tuple[int, str | None]:
    """How many events wait in the queue, and when the oldest was queued."""
    count, oldest = session.execute(select(func.count(), func.min(LedgerQueued.time))).one()
    return int(count), oldest
