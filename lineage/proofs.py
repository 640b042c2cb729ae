"""Inclusion and consistency proofs served from the stored tree, and their verification by an
outsider who holds only the proof document and the platform's public key."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from lineage import merkle, signing
from lineage.canonical import NotCanonical, canonical_bytes
from lineage.errors import LedgerError
from lineage.ledger import (
    Checkpoint,
    LedgerCheckpoint,
    LedgerEvent,
    LedgerNode,
    event_body,
    stored_subtree,
)

FORMAT = "tds-inclusion-proof/1"


class NotFound(LedgerError):
    kind = "not_found"


def latest_checkpoint(session: Session, at_least: int = 1) -> Checkpoint:
    """The newest checkpoint with a Merkle root that covers ``at_least`` events."""
    row = session.scalars(select(LedgerCheckpoint).where(
        LedgerCheckpoint.root.is_not(None), LedgerCheckpoint.size >= at_least)
        .order_by(LedgerCheckpoint.size.desc(), LedgerCheckpoint.id.desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"no signed Merkle checkpoint covers event {at_least} yet")
    return row.checkpoint()


def checkpoint_at(session: Session, size: int) -> Checkpoint:
    row = session.scalars(select(LedgerCheckpoint).where(
        LedgerCheckpoint.size == size, LedgerCheckpoint.root.is_not(None))
        .order_by(LedgerCheckpoint.id).limit(1)).first()
    if row is None:
        raise NotFound(f"no signed checkpoint at size {size}")
    return row.checkpoint()


def inclusion(session: Session, seq: int, checkpoint: Checkpoint | None = None,
              archive_dir: Path | None = None) -> dict[str, Any]:
    """A self-contained document proving event ``seq`` is in the signed tree. An event whose row
    was purged is read from its month's archive file (under ``archive_dir``), and must still
    match the leaf the tree kept."""
    event = session.get(LedgerEvent, seq)
    if event is not None:
        body = event_body(event.seq, event.time, event.actor, event.actor_id, event.action,
                     event.subject, json.loads(event.payload))
    else:
        body = _archived(session, seq, archive_dir)
    checkpoint = checkpoint or latest_checkpoint(session, seq)
    proof = merkle.inclusion_proof(seq - 1, checkpoint.size, stored_subtree(session))
    return {"format": FORMAT, "event": body, "leaf_index": seq - 1,
            "leaf_hash": merkle.leaf_hash(canonical_bytes(body)).hex(),
            "tree_size": checkpoint.size, "proof": [p.hex() for p in proof],
            "checkpoint": asdict(checkpoint)}


def _archived(session: Session, seq: int, archive_dir: Path | None) -> dict[str, Any]:
    from lineage.archive import LedgerArchive  # the archive module builds on this one

    month = session.scalars(select(LedgerArchive).where(
        LedgerArchive.first_seq <= seq, LedgerArchive.last_seq >= seq,
        LedgerArchive.purged_at.is_not(None))).first()
    if month is None or archive_dir is None:
        raise NotFound(f"no ledger event {seq}")
    path = archive_dir / month.path
    try:
        rows = pq.read_table(path, filters=[("seq", "=", seq)]).to_pylist()
    except OSError as exc:
        raise NotFound(f"event {seq} was purged and its archive {month.path} is unreadable: "
                       f"{exc}") from exc
    if len(rows) != 1:
        raise NotFound(f"event {seq} was purged and is not in its archive {month.path}")
    row = rows[0]
    body = event_body(row["seq"], row["time"], row["actor"], row["actor_id"], row["action"],
                 row["subject"], json.loads(row["payload"]))
    leaf = session.scalar(select(LedgerNode.hash).where(LedgerNode.level == 0,
                                                        LedgerNode.idx == seq - 1))
    if leaf != merkle.leaf_hash(canonical_bytes(body)).hex():
        raise LedgerError(f"the archived event {seq} does not match the leaf the ledger kept")
    return body


def consistency(session: Session, old: int, new: int | None = None) -> dict[str, Any]:
    """Proof that the signed tree of ``old`` events is a prefix of the one of ``new``."""
    new_cp = checkpoint_at(session, new) if new else latest_checkpoint(session, old)
    old_cp = checkpoint_at(session, old)
    proof = merkle.consistency_proof(old, new_cp.size, stored_subtree(session))
    return {"format": "tds-consistency-proof/1", "old": asdict(old_cp),
            "new": asdict(new_cp), "proof": [p.hex() for p in proof],
            "valid": merkle.verify_consistency(old, new_cp.size, bytes.fromhex(old_cp.root),
                                               bytes.fromhex(new_cp.root), proof)}


def verify_inclusion(document: dict[str, Any], keys: list[Ed25519PublicKey]) -> list[str]:
    """Problems with an inclusion-proof document (empty: it proves the event was logged).
    ``keys`` are the platform keys the reader trusts; the checkpoint must be signed by one."""
    problems: list[str] = []
    try:
        cp = Checkpoint(**document["checkpoint"])
        index, size = int(document["leaf_index"]), int(document["tree_size"])
        proof = [bytes.fromhex(p) for p in document["proof"]]
        leaf = merkle.leaf_hash(canonical_bytes(document["event"]))
        seq = int(document["event"]["seq"])
    except (KeyError, TypeError, ValueError, NotCanonical) as exc:
        return [f"the proof document is malformed: {exc}"]
    if document.get("format") != FORMAT:
        problems.append(f"unknown proof format {document.get('format')!r}")
    if index != seq - 1 or size != cp.size:
        problems.append("the proof's position or size does not match its event and checkpoint")
    if leaf.hex() != document.get("leaf_hash"):
        problems.append("the leaf hash does not match the event")
    signed = [k for k in keys if signing.key_id(k) == cp.key_id]
    if not signed or not signing.verify(signed[0], cp.signed_bytes(), cp.signature):
        problems.append("the checkpoint is not signed by a trusted platform key")
    if not cp.root or not merkle.verify_inclusion(index, size, leaf, proof, bytes.fromhex(cp.root)):
        problems.append("the inclusion proof does not lead to the checkpoint's root")
    return problems
