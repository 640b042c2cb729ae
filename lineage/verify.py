"""Ledger verification: recompute every event's hash, chain link and Merkle leaf, every stored
tree node, and every checkpoint's root, signature and key, in the database and the witness file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lineage import archive, keys, merkle, queue, signing
from lineage.canonical import NotCanonical, canonical_bytes
from lineage.ledger import (
    GENESIS,
    Checkpoint,
    LedgerCheckpoint,
    LedgerNode,
    event_body,
    read_witness,
)

_MAX_PROBLEMS = 100
_BATCH = 20_000


@dataclass
class Verification:
    valid: bool = True
    events: int = 0
    checkpoints: int = 0
    root: str = ""  # Merkle root of all events, recomputed
    purged: int = 0  # events whose rows were purged after archiving (their leaves remain)
    keys: list[dict[str, Any]] = field(default_factory=list)  # each key and the sizes it signs
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bad_events: set[int] = field(default_factory=set)

    def problem(self, message: str) -> None:
        self.valid = False
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(message)

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "events": self.events, "purged": self.purged,
                "checkpoints": self.checkpoints, "root": self.root, "keys": self.keys,
                "problems": self.problems, "warnings": self.warnings}


_encode = json.JSONEncoder(ensure_ascii=False).encode


def _string(value: str) -> str:
    """A JSON string as canonical_bytes writes it (a fast path for strings needing no escape)."""
    if value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return _encode(value)


def quick_bytes(seq: int, time: str, actor: str, actor_id: int | None, action: str,
                 subject: str, payload: str) -> bytes:
    """The canonical event bytes from stored columns without parsing the payload (it is stored
    canonical); :func:`slow_bytes` decides when this differs."""
    return (f'{{"action":{_string(action)},"actor":{_string(actor)},"actor_id":'
            f'{"null" if actor_id is None else int(actor_id)},"payload":{payload},"seq":{seq},'
            f'"subject":{_string(subject)},"time":{_string(time)}}}').encode()


def slow_bytes(seq: int, time: str, actor: str, actor_id: int | None, action: str,
                subject: str, payload: str) -> bytes | None:
    try:
        return canonical_bytes(event_body(seq, time, actor, actor_id, action, subject,
                                     json.loads(payload)))
    except (ValueError, NotCanonical):
        return None


def _stream(session: Session, sql: str, batch: int):
    """Blocks of rows of a constant query, without per-row overhead: SQLite's own cursor, or a
    server-side cursor elsewhere (PostgreSQL would otherwise load every row at once)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql)
            while block := cursor.fetchmany(batch):
                yield block
        finally:
            cursor.close()
        return
    result = connection.execution_options(stream_results=True, yield_per=batch).exec_driver_sql(sql)
    yield from result.partitions(batch)


class _Nodes:
    """Compares the recomputed tree nodes with the stored ones in one ordered pass: nodes of a
    level are made in index order, so each level's nodes are hashed in chunks as they are made
    and the stored nodes, read level by level in index order, are hashed the same way."""

    CHUNK = 4096

    def __init__(self, session: Session, result: Verification) -> None:
        self.session, self.result = session, result
        self.chunks: list[list[bytes]] = []  # per level: digests of full chunks
        self.open: list[list[str]] = []  # per level: hex hashes of the chunk being filled
        self.counts: list[int] = []

    def add(self, made: list[tuple[int, int, bytes]]) -> None:
        for level, _idx, digest in made:
            if level == len(self.chunks):
                self.chunks.append([])
                self.open.append([])
                self.counts.append(0)
            pending = self.open[level]
            pending.append(digest.hex())
            self.counts[level] += 1
            if len(pending) == self.CHUNK:
                self.chunks[level].append(hashlib.sha256("".join(pending).encode()).digest())
                pending.clear()

    def check(self) -> None:
        levels = self.session.execute(text("SELECT DISTINCT level FROM ledger_nodes")).scalars()
        for level in range(max(len(self.chunks), max(levels, default=-1) + 1)):
            self._check_level(level)

    def _check_level(self, level: int) -> None:
        mine = list(self.chunks[level]) if level < len(self.chunks) else []
        if level < len(self.open) and self.open[level]:
            mine.append(hashlib.sha256("".join(self.open[level]).encode()).digest())
        need = self.counts[level] if level < len(self.counts) else 0
        theirs, have = [], 0
        for block in _stream(self.session, "SELECT hash FROM ledger_nodes WHERE level = "
                             f"{int(level)} ORDER BY idx", self.CHUNK):
            have += len(block)
            theirs.append(hashlib.sha256("".join(h for (h,) in block).encode()).digest())
        what = "leaves" if level == 0 else f"tree nodes at level {level}"
        if have != need:
            self.result.problem(f"stored Merkle {what}: {have} stored, {need} expected")
            return
        bad = next((i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b), None)
        if bad is not None:
            first = bad * self.CHUNK
            self.result.problem(
                f"stored Merkle {what} differ from the recomputed tree (index {first} to "
                f"{first + self.CHUNK - 1}, over events from {(first << level) + 1})")


def verify_ledger(session: Session, genesis_key: Ed25519PublicKey, witness_path: Path,
                  origin: str = "") -> Verification:
    """Check the whole ledger against what it signed. ``genesis_key`` is the first platform key;
    later keys are accepted through rotation events signed by the key before them."""
    result = Verification()
    stored = [c.checkpoint() for c in
              session.execute(select(LedgerCheckpoint).order_by(LedgerCheckpoint.id)).scalars()]
    witnessed, witness_problems = read_witness(witness_path)
    for message in witness_problems:
        result.problem(message)
    wanted = sorted({cp.size for cp in stored + witnessed})
    recomputed: dict[int, tuple[str, str]] = {}  # size -> (root, head)
    next_wanted = 0
    while next_wanted < len(wanted) and wanted[next_wanted] == 0:
        next_wanted += 1

    tree, nodes = merkle.Frontier(), _Nodes(session, result)
    current = genesis_key
    key_ranges = [(0, genesis_key)]  # a key signs checkpoints of sizes from its start on
    expected_seq, prev = 1, GENESIS
    # Core rows through the session's connection: no ORM row processing for millions of rows.
    rows = (row for block in _stream(
        session, "SELECT seq, time, actor, actor_id, action, subject, payload, prev_hash, hash "
        "FROM ledger_events ORDER BY seq", _BATCH) for row in block)
    purged = archive.purged_ranges(session)

    def record_roots(head: str) -> None:
        nonlocal next_wanted
        while next_wanted < len(wanted) and wanted[next_wanted] == tree.size:
            recomputed[tree.size] = (tree.root().hex(), head)
            next_wanted += 1

    def skip_purged() -> None:
        """Feed the stored leaves of purged months (their rows are gone) into the tree."""
        nonlocal prev, expected_seq
        while purged and purged[0].first_seq == expected_seq:
            month = purged.pop(0)
            leaves = session.execute(select(LedgerNode.hash).where(
                LedgerNode.level == 0,
                LedgerNode.idx.between(month.first_seq - 1, month.last_seq - 1))
                .order_by(LedgerNode.idx)).scalars().all()
            if len(leaves) != month.count or month.last_seq - month.first_seq + 1 != month.count:
                result.problem(f"the leaves of purged month {month.month} are incomplete")
            for leaf in leaves:
                nodes.add(tree.add(bytes.fromhex(leaf)))
                record_roots("")
            if tree.root().hex() != month.root:
                result.problem(f"the purged month {month.month} does not lead to its signed "
                               "month-end root")
            result.purged += len(leaves)
            prev, expected_seq = month.last_hash, month.last_seq + 1

    for seq, time, actor, actor_id, action, subject, payload, prev_hash, digest in rows:
        skip_purged()
        result.events += 1
        if seq != expected_seq:
            result.problem(f"event {expected_seq} is missing or out of order "
                           f"(found {seq} in its place)")
        if prev_hash != prev:
            result.problem(f"event {seq} does not link to the event before it")
        fields = (seq, time, actor, actor_id, action, subject, payload)
        data = quick_bytes(*fields)
        link = bytes.fromhex(prev_hash) if len(prev_hash) == 64 else b""
        if hashlib.sha256(link + data).hexdigest() != digest:
            slow = slow_bytes(*fields)
            if slow is not None and hashlib.sha256(link + slow).hexdigest() == digest:
                data = slow
            else:
                result.problem(f"event {seq} was modified (its hash does not match its content)")
                result.bad_events.add(seq)
        nodes.add(tree.add(merkle.leaf_hash(data)))
        if action == keys.ROTATION and seq not in result.bad_events:
            new, reason = keys.follow(origin, current, json.loads(payload))
            if new is None:
                result.problem(f"key rotation at event {seq} is not valid: {reason}")
            else:
                current = new
                key_ranges.append((tree.size, new))
        record_roots(digest)
        prev, expected_seq = digest, seq + 1
    skip_purged()
    nodes.check()
    result.root = tree.root().hex()
    for month in session.scalars(select(archive.LedgerArchive)):
        if not any(archive.manifest_signed(month, k) for _, k in key_ranges):
            result.problem(f"the archive manifest of {month.month} is not signed by a "
                           "platform key")
    result.keys = [{"key_id": signing.key_id(k), "from_size": start,
                    "to_size": key_ranges[i + 1][0] - 1 if i + 1 < len(key_ranges) else None}
                   for i, (start, k) in enumerate(key_ranges)]

    by_size: dict[int, str] = {}
    for where, checkpoints in (("database", stored), ("witness file", witnessed)):
        for cp in checkpoints:
            result.checkpoints += 1
            _check_checkpoint(result, cp, where, key_ranges, recomputed, by_size, origin,
                              tree.size)
    witnessed_size = max((w.size for w in witnessed), default=0)
    behind = [cp.size for cp in stored if cp.size > witnessed_size]
    if behind:
        result.warnings.append(
            f"{len(behind)} checkpoint(s) in the database are not in the witness file yet")
    count, oldest = queue.waiting(session)
    if count:
        # Committed with their state changes; the next write's sequencer pass chains them.
        result.warnings.append(f"{count} event(s) queued since {oldest} are not chained yet")
    signed = max((cp.size for cp in stored + witnessed), default=0)
    if tree.size > signed:
        # An event and its checkpoint commit together, so events beyond every checkpoint were
        # added to the database afterwards.
        result.problem(f"{tree.size - signed} event(s) after {signed} are covered by no "
                       "signed checkpoint (added outside the platform?)")
    stored_sizes = {cp.size for cp in stored}
    missing = [cp.size for cp in witnessed if cp.size not in stored_sizes]
    if missing:
        result.problem(f"{len(missing)} witnessed checkpoint(s) are missing from the database "
                       f"(first at size {missing[0]})")
    return result


def key_for(size: int, key_ranges: list[tuple[int, Ed25519PublicKey]]) -> Ed25519PublicKey:
    chosen = key_ranges[0][1]
    for start, key in key_ranges:
        if start <= size:
            chosen = key
    return chosen


def _check_checkpoint(result: Verification, cp: Checkpoint, where: str,
                      key_ranges: list[tuple[int, Ed25519PublicKey]],
                      recomputed: dict[int, tuple[str, str]], by_size: dict[int, str],
                      origin: str, size: int) -> None:
    label = f"{where} checkpoint at size {cp.size}"
    key = key_for(cp.size, key_ranges)
    if cp.key_id != signing.key_id(key) or not signing.verify(key, cp.signed_bytes(), cp.signature):
        result.problem(f"{label} has a bad signature or a key not valid for its size")
        return
    if cp.root and origin and cp.origin != origin:
        result.problem(f"{label} names another log ({cp.origin!r})")
    if by_size.setdefault(cp.size, cp.root or cp.head) != (cp.root or cp.head):
        result.problem(f"two different roots were signed for size {cp.size}")
    if cp.size > size:
        result.problem(f"ledger truncated: the {label} covers {cp.size} events, the ledger "
                       f"holds {size}")
        return
    root, head = recomputed.get(cp.size, ("", ""))
    if (cp.root and cp.root != root) or (head and cp.head != head) or (not head and not cp.root):
        result.problem(f"the {label} does not match the events (root or head differs)")
