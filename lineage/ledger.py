"""The ledger: events appended in the caller's transaction, hash-chained and leaves of a Merkle
tree, with signed checkpoints.

Every state change of the platform calls :func:`append` with the session that makes the change,
so the event commits or rolls back with it. Each event is a leaf of an RFC 6962 Merkle tree
whose perfect-subtree nodes are stored as they complete (``ledger_nodes``), so roots and proofs
never rehash the whole log. Before the transaction commits, :func:`seal` stores a signed
checkpoint (origin, size, root, head, time, key id); after it commits, :func:`witness` appends
it to a file outside the database, so a truncated or rolled-back database is still detected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.base import Base
from lineage import merkle
from lineage.canonical import NotCanonical, canonical_bytes
from lineage.errors import LedgerError
from lineage.events import checked
from lineage.rows import Rows, event_row
from lineage.signing import Signer
from policies.roles import Actor

GENESIS = "0" * 64
HEAD_KEY = "lineage.head"
LOCKED = "lineage.locked"  # this transaction holds the ledger's PostgreSQL lock
TREE_KEY = "lineage.tree"
ADVISORY_LOCK = 0x7D5_1ED6  # any constant: serializes appends across PostgreSQL sessions


class LedgerEvent(Base):
    __tablename__ = "ledger_events"
    # Searches by actor, action or subject read the newest first; reports read by time. Each
    # index is written on every append: an index on the column alone would repeat the prefix
    # of its (column, seq) index.
    __table_args__ = (Index("ix_ledger_events_time", "time"),
                      Index("ix_ledger_events_actor_seq", "actor", "seq"),
                      Index("ix_ledger_events_action_seq", "action", "seq"),
                      Index("ix_ledger_events_subject_seq", "subject", "seq"))

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "time": self.time, "actor": self.actor, "actor_id": self.actor_id,
            "action": self.action, "subject": self.subject, "payload": json.loads(self.payload),
            "prev_hash": self.prev_hash, "hash": self.hash,
        }


class LedgerNode(Base):
    """A completed perfect subtree of the Merkle tree: level 0 are the leaves (event hashes)."""

    __tablename__ = "ledger_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class LedgerCheckpoint(Base):
    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer, index=True)
    head: Mapped[str] = mapped_column(String(64))
    time: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(128))
    root: Mapped[str | None] = mapped_column(String(64))  # None: before Merkle roots existed
    origin: Mapped[str | None] = mapped_column(String(100))

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.size, self.head, self.time, self.key_id, self.signature,
                          self.root or "", self.origin or "")


@dataclass(frozen=True)
class Checkpoint:
    size: int
    head: str
    time: str
    key_id: str
    signature: str
    root: str = ""  # hex Merkle root of the first ``size`` events
    origin: str = ""  # which log: stable across key rotations

    def signed_bytes(self) -> bytes:
        return checkpoint_bytes(self.size, self.head, self.time, self.root, self.origin)


def checkpoint_bytes(size: int, head: str, time: str, root: str = "", origin: str = "") -> bytes:
    if not root:  # checkpoints signed before the Merkle tree: size, head and time only
        return canonical_bytes({"size": size, "head": head, "time": time, "type": "tds-checkpoint"})
    return canonical_bytes({"origin": origin, "size": size, "root": root, "head": head,
                            "time": time, "type": "tds-checkpoint-v2"})


def stamp(when: dt.datetime) -> str:
    """The ledger's form of a UTC time: events, checkpoints and searches compare these as text."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_iso() -> str:
    return stamp(dt.datetime.now(dt.UTC))


def event_body(seq: int, time: str, actor: str, actor_id: int | None, action: str, subject: str,
          payload: Any) -> dict[str, Any]:
    return {"seq": seq, "time": time, "actor": actor, "actor_id": actor_id, "action": action,
            "subject": subject, "payload": payload}


def locked_head(session: Session, *, dequeue: bool = False) -> tuple[int, str]:
    """The ledger's head under its write lock, with the tree's right edge (``TREE_KEY``).
    ``dequeue``: also take every queued event off the queue (``QUEUED_ROWS``), in the same
    round trip on PostgreSQL."""
    cached = session.info.get(HEAD_KEY)
    if cached is not None:
        return cached
    rows = driver(session)
    with rows.batch():  # PostgreSQL: BEGIN, the lock, the head and the queue in one round trip
        if rows.dialect.name == "postgresql" and not session.info.get(LOCKED):
            rows.send("lock", (ADVISORY_LOCK,))
        found = rows.send("head")
        taken = rows.send("dequeue") if dequeue else None
    found = found.fetchall()
    if taken is not None:
        session.info[QUEUED_ROWS] = taken.fetchall()
    head = (found[0][0], found[0][1]) if found else (0, GENESIS)
    edge = {level: node for _, _, level, node in found if level is not None}
    subtrees = []
    for level, idx in merkle.perfect_subtrees(head[0]):
        if edge.get(level) is None:
            raise LedgerError(f"the ledger's Merkle nodes are incomplete (no node {(level, idx)})")
        subtrees.append(bytes.fromhex(edge[level]))
    session.info[TREE_KEY] = merkle.Frontier(head[0], subtrees)
    return head


QUEUED_ROWS = "lineage.queued_rows"


def event_bytes(body: dict[str, Any]) -> bytes:
    """The canonical bytes of an event: its Merkle leaf is H(0x00 || these)."""
    return canonical_bytes(body)


def chain_hash(prev: str, data: bytes) -> str:
    """An event's hash: SHA-256 of the previous event's hash and the event's canonical bytes."""
    return hashlib.sha256(bytes.fromhex(prev) + data).hexdigest()


@dataclass(frozen=True)
class Appended:
    """An appended event as its caller sees it: ``seq``, ``time`` and hashes stay None while
    it waits in the queue."""

    actor: str
    actor_id: int | None
    action: str
    subject: str
    payload: str  # canonical JSON
    seq: int | None = None
    time: str | None = None
    prev_hash: str | None = None
    hash: str | None = None


def append(session: Session, actor: Actor, action: str, subject: str,
           payload: dict[str, Any] | None = None, *, now: bool = False) -> Appended:
    """Append one event in ``session``'s transaction. Payloads refer to people by id only.

    The event commits or rolls back with the transaction. In a transaction that allows it
    (``session.info[lineage.queue.QUEUE]``, set by a store with group commit) it is queued and
    chained right after the commit with the events of concurrent transactions
    (:mod:`lineage.queue`); the returned event then has no ``seq`` or ``hash`` yet. Otherwise,
    or with ``now`` (for a caller that needs its place, such as a proof of it after the commit,
    or a transaction that must seal with another key), it is chained in this transaction under
    the ledger's write lock."""
    checked(action, subject, payload)
    payload = payload or {}
    try:
        canonical = canonical_bytes(payload).decode("utf-8")
    except NotCanonical as exc:
        raise LedgerError(f"event payload of {action} is not canonical: {exc}") from exc
    row = {"actor": nfc(actor.name), "actor_id": actor.id, "action": nfc(action),
           "subject": nfc(subject), "payload": canonical}
    from lineage import queue  # (it builds on this module)

    if session.info.get(queue.QUEUE) and not session.info.get(DIRECT):
        if not now:
            queue.enqueue(session, row)
            return Appended(**row)
        # Events queued before this one (this transaction's own among them) go first, and
        # later events of this transaction are chained here too, so its order is kept.
        session.info[DIRECT] = True
        queue.sequence(session)
    seq, prev = locked_head(session)
    seq += 1
    time = now_iso()
    data = event_bytes(event_body(seq, time, row["actor"], actor.id, row["action"],
                                  row["subject"], payload))
    digest = chain_hash(prev, data)
    row.update(seq=seq, time=time, prev_hash=prev, hash=digest)
    tree: merkle.Frontier = session.info[TREE_KEY]
    nodes = [(level, idx, h.hex()) for level, idx, h in tree.add(merkle.leaf_hash(data))]
    rows = driver(session)
    with rows.batch():
        rows.many("event", [event_row(row)])
        rows.many("node", nodes)
    session.info[HEAD_KEY] = (seq, digest)
    return Appended(**row)


DIRECT = "lineage.direct"


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def driver(session: Session) -> Rows:
    """The ledger's statements on ``session``'s connection (one per transaction)."""
    rows = session.info.get(ROWS)
    # Checked each time: after a commit the session may hold another pooled connection.
    if rows is None or rows.raw is not session.connection().connection.driver_connection:
        rows = session.info[ROWS] = Rows(session)
    return rows


ROWS = "lineage.rows"


def forget_head(session: Session) -> None:
    """Drop the cached head (after a commit or rollback the next append re-reads it)."""
    session.info.pop(ROWS, None)
    session.info.pop(SEALED, None)
    session.info.pop(HEAD_KEY, None)
    session.info.pop(TREE_KEY, None)
    session.info.pop(DIRECT, None)
    session.info.pop(LOCKED, None)


def seal(session: Session, signer: Signer | Callable[[], Signer],
         origin: str | Callable[[], str]) -> Checkpoint | None:
    """Store a signed checkpoint of the events this transaction appended (None if none).
    A transaction that rotates the key seals with the new key (``session.info``). The signer
    and origin may be given as functions, called only when there is something to seal."""
    sealed = session.info.get(SEALED)
    if sealed is not None and sealed.size == session.info.get(HEAD_KEY, (0,))[0]:
        return sealed  # stored with its events (lineage.queue.sequence)
    cp = checkpoint(session, signer, origin)
    if cp is not None:
        driver(session).many("checkpoint", [checkpoint_row(cp)])
    return cp


def checkpoint(session: Session, signer: Signer | Callable[[], Signer],
               origin: str | Callable[[], str]) -> Checkpoint | None:
    """The signed checkpoint of this transaction's head (None if it appended nothing)."""
    head = session.info.get(HEAD_KEY)
    if head is None:
        return None
    signer = session.info.get(SIGNER_OVERRIDE) or (signer if isinstance(signer, Signer)
                                                  else signer())
    origin = origin if isinstance(origin, str) else origin()
    size, digest = head
    root = session.info[TREE_KEY].root().hex()
    time = now_iso()
    signature = signer.sign(checkpoint_bytes(size, digest, time, root, origin))
    return Checkpoint(size, digest, time, signer.key_id, signature, root, origin)


def checkpoint_row(cp: Checkpoint) -> tuple:
    return (cp.size, cp.head, cp.time, cp.key_id, cp.signature, cp.root, cp.origin)


SEALED = "lineage.sealed"  # session.info: the checkpoint stored with the events it covers
SIGNER_OVERRIDE = "lineage.signer"


class _Witness:
    """Group commit of one witness file: a thread that finds the file busy leaves its line;
    the thread that takes the file next writes every waiting line with one sync."""

    def __init__(self) -> None:
        self.lines = threading.Condition()  # guards the fields below; told when a write ends
        self.writing = False  # a thread is writing and syncing the file
        self.waiting: list[str] = []
        self.queued = 0  # lines handed in
        self.synced = 0  # lines durably written


_WITNESSES: dict[Path, _Witness] = {}
_WITNESSES_LOCK = threading.Lock()


def witness(path: Path, *checkpoints: Checkpoint,
            sync: Callable[[], None] | None = None) -> None:
    """Append committed checkpoints to the witness file (one JSON object a line); returns once
    they are durably written, with the lines of every thread that waited meanwhile.

    ``sync`` makes the commits of those checkpoints durable first (SQLite's write-ahead log,
    which commits without syncing): the thread that writes a group's lines calls it once for
    the whole group, so the witness never holds a checkpoint that a crash could take from the
    database."""
    await_witness(hand_in(path, *checkpoints), sync)


Ticket = tuple[Path, "_Witness", int] | None


def hand_in(path: Path, *checkpoints: Checkpoint) -> Ticket:
    """Queue committed checkpoints for the witness file, in the order of the calls (a writer
    that hands in while it still holds the database's write lock keeps commit order)."""
    if not checkpoints:
        return None
    with _WITNESSES_LOCK:
        group = _WITNESSES.setdefault(path, _Witness())
    with group.lines:
        group.waiting.extend(json.dumps(vars(cp), sort_keys=True) + "\n" for cp in checkpoints)
        group.queued += len(checkpoints)
        return path, group, group.queued


def await_witness(ticket: Ticket, sync: Callable[[], None] | None = None) -> None:
    """Return once the lines of ``ticket`` are durably written (see :func:`witness`)."""
    if ticket is None:
        return
    path, group, upto_mine = ticket
    with group.lines:
        # All the threads a write covers wake together when it ends, not one after the other.
        group.lines.wait_for(lambda: group.synced >= upto_mine or not group.writing)
        if group.synced >= upto_mine:  # another thread wrote and synced it
            return
        group.writing = True
        lines, upto, group.waiting = group.waiting, group.queued, []
    synced = False
    try:
        if sync is not None:  # every line taken was handed in after its commit
            sync()
        _write_durably(path, "".join(lines))
        synced = True
    finally:
        with group.lines:
            if synced:
                group.synced = upto
            else:  # the next writer tries them again
                group.waiting[:0] = lines
            group.writing = False
            group.lines.notify_all()


def _write_durably(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        data = text.encode("utf-8")
        while data:  # a write may be short (a signal, a full disk's last blocks)
            data = data[os.write(fd, data):]
        sync_data(fd)
    finally:
        os.close(fd)


def sync_data(fd: int) -> None:
    """Make a file's written data durable: fdatasync also writes the size an append changed,
    without the other metadata fsync waits for (about half its time here)."""
    getattr(os, "fdatasync", os.fsync)(fd)


def sync_file(path: Path) -> None:
    """Make what was written to ``path`` (by any process) durable; nothing if it is gone."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        sync_data(fd)
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
        except (ValueError, TypeError) as exc:  # also unknown or missing fields
            problems.append(f"witness file line {number} is malformed: {exc}")
    return found, problems


def copy_witness(session: Session, path: Path) -> int:
    """Append to the witness file ``path`` every stored checkpoint it lacks (a worker's periodic
    copy, so a machine apart from the database keeps them all); returns how many were copied.
    How far the copy got is kept beside the file, so each run reads only newer checkpoints."""
    mark = path.with_name(path.name + ".copied")
    try:
        since = int(mark.read_text(encoding="utf-8").strip() or 0)
    except (OSError, ValueError):
        since = 0
    held = {cp.size for cp in read_witness(path)[0] if cp.size > since}
    missing, newest = [], since
    for row in session.scalars(select(LedgerCheckpoint).where(LedgerCheckpoint.size > since)
                               .order_by(LedgerCheckpoint.size)):
        if row.size not in held:
            missing.append(row.checkpoint())
        newest = row.size
    witness(path, *missing)  # one write and one fsync for all of them
    if newest != since:
        mark.write_text(f"{newest}\n", encoding="utf-8")
    return len(missing)


def stored_subtree(session: Session) -> merkle.Subtree:
    """The tree as stored (its Merkle nodes), for proofs and archives."""
    rows = driver(session)  # a proof reads a node per level: on the cursor, not the ORM

    def node(level: int, idx: int) -> bytes:
        found = rows.run("node_hash", (level, idx))
        if not found:
            raise LedgerError(f"the ledger's Merkle node ({level}, {idx}) is missing")
        return bytes.fromhex(found[0][0])
    return merkle.subtree_from_nodes(node)
