"""The tamper-evident ledger: events, the Merkle tree and its signed checkpoints, proofs,
archives, verification and signing keys. What is built from it (lineage graph, reports,
indicators, audit search, OpenLineage) is in :mod:`reporting`.

Names load on first use (PEP 562): a command that only needs the home's paths or a key file's
name does not pay for SQLAlchemy and the ledger's tables."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_WHERE = {
    "LedgerError": "lineage.errors", "LineageError": "lineage.errors",
    "SigningKeyError": "lineage.errors",
    "Checkpoint": "lineage.ledger", "LedgerCheckpoint": "lineage.ledger",
    "LedgerEvent": "lineage.ledger", "LedgerNode": "lineage.ledger", "append": "lineage.ledger",
    "forget_head": "lineage.ledger", "seal": "lineage.ledger", "sync_file": "lineage.ledger",
    "Ticket": "lineage.ledger", "hand_in": "lineage.ledger", "await_witness": "lineage.ledger",
    "witness": "lineage.ledger",
    "Signer": "lineage.signing", "create_keypair": "lineage.signing",
    "load_public": "lineage.signing", "load_signer": "lineage.signing",
    "Verification": "lineage.verify", "verify_ledger": "lineage.verify",
}

__all__ = [
    "Checkpoint", "LedgerCheckpoint", "LedgerError", "LedgerEvent", "LedgerNode", "LineageError",
    "Signer", "SigningKeyError", "Ticket", "Verification", "append", "await_witness",
    "create_keypair", "forget_head", "hand_in", "load_public", "load_signer", "seal", "sync_file",
    "verify_ledger", "witness",
]


def __getattr__(name: str) -> Any:
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'lineage' has no attribute {name!r}") from None
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from lineage.errors import LedgerError, LineageError, SigningKeyError
    from lineage.ledger import (
        Checkpoint,
        LedgerCheckpoint,
        LedgerEvent,
        LedgerNode,
        Ticket,
        append,
        await_witness,
        forget_head,
        hand_in,
        seal,
        sync_file,
        witness,
    )
    from lineage.signing import Signer, create_keypair, load_public, load_signer
    from lineage.verify import Verification, verify_ledger
