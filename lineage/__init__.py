"""The tamper-evident ledger, its signed checkpoints and verification; the shared table base."""

from lineage.base import Base
from lineage.errors import LedgerError, LineageError, SigningKeyError
from lineage.ledger import (
    Checkpoint,
    LedgerCheckpoint,
    LedgerEvent,
    LedgerNode,
    append,
    committed,
    forget_head,
    seal,
    witness,
)
from lineage.signing import Signer, create_keypair, load_public, load_signer
from lineage.verify import Verification, verify_ledger

__all__ = [
    "Base", "Checkpoint", "LedgerCheckpoint", "LedgerError", "LedgerEvent", "LedgerNode", "LineageError",
    "Signer", "SigningKeyError", "Verification", "append", "committed", "create_keypair",
    "forget_head", "load_public", "load_signer", "seal", "verify_ledger", "witness",
]
