"""Key rotation: a new platform key is announced by an event signed with the old one, so a
verifier that trusts the first key can follow every later key, each only for its range."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from lineage.canonical import canonical_bytes
from lineage.events import KEY_ROTATED
from lineage.ledger import SIGNER_OVERRIDE, Appended, append
from lineage.signing import Signer, key_id, load_public, public_pem, verify
from policies.roles import Actor

ROTATION = KEY_ROTATED


def statement(origin: str, old_key_id: str, new_key_id: str, new_public_pem: str) -> bytes:
    return canonical_bytes({"type": "tds-key-rotation", "origin": origin, "old_key_id": old_key_id,
                            "new_key_id": new_key_id, "new_public_key": new_public_pem})


def rotate(session: Session, actor: Actor, origin: str, old: Signer, new: Signer) -> Appended:
    """Log the rotation (signed by ``old``) and seal this transaction with ``new``."""
    pem = public_pem(new.public).decode("ascii")
    signature = old.sign(statement(origin, old.key_id, new.key_id, pem))
    event = append(session, actor, ROTATION, f"key:{new.key_id}", {
        "old_key_id": old.key_id, "new_key_id": new.key_id, "new_public_key": pem,
        "signature": signature,
    }, now=True)  # the checkpoint that seals this transaction must cover it, signed by new
    session.info[SIGNER_OVERRIDE] = new
    return event


def follow(origin: str, current: Ed25519PublicKey, payload: dict[str, Any]
           ) -> tuple[Ed25519PublicKey | None, str]:
    """The new key a rotation event announces, if the current key signed it; else a reason."""
    try:
        new = load_public(str(payload["new_public_key"]).encode("ascii"))
        body = statement(origin, str(payload["old_key_id"]), str(payload["new_key_id"]),
                         str(payload["new_public_key"]))
        signature = str(payload["signature"])
    except (KeyError, ValueError, UnicodeError) as exc:
        return None, f"malformed rotation: {exc}"
    if payload["old_key_id"] != key_id(current):
        return None, "it names another key as the old one"
    if payload["new_key_id"] != key_id(new):
        return None, "its new key id does not match its new key"
    if not verify(current, body, signature):
        return None, "the old key did not sign it"
    return new, ""
