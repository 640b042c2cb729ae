"""Ed25519 platform keys: creation, loading (optionally passphrase-encrypted), signing."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lineage.errors import SigningKeyError

PRIVATE_NAME = "platform_ed25519.pem"
PUBLIC_NAME = "platform_ed25519.pub.pem"


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise SigningKeyError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError("the public key is not an Ed25519 key")
    return key


def verify(public: Ed25519PublicKey, data: bytes, signature_b64: str) -> bool:
    try:
        public.verify(base64.b64decode(signature_b64, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass
class Signer:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @cached_property
    def key_id(self) -> str:  # signed into every checkpoint: computed once
        return key_id(self.public)

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private.sign(data)).decode("ascii")


def create_keypair(directory: Path, passphrase: str | None) -> Signer:
    """Write a new key pair into ``directory``; the private key file gets mode 0600."""
    directory.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase
        else serialization.NoEncryption()
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    path = directory / PRIVATE_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    (directory / PUBLIC_NAME).write_bytes(public_pem(private.public_key()))
    return Signer(private)


def load_signer(directory: Path, passphrase: str | None) -> Signer:
    path = directory / PRIVATE_NAME
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read the platform key {path}: {exc.strerror}") from exc
    password = passphrase.encode("utf-8") if passphrase else None
    try:
        private = serialization.load_pem_private_key(pem, password=password)
    except TypeError as exc:
        raise SigningKeyError(
            "the platform key is encrypted: set TDS_KEY_PASSPHRASE"
            if password is None
            else "the platform key is not encrypted, but TDS_KEY_PASSPHRASE is set"
        ) from exc
    except ValueError as exc:
        raise SigningKeyError("cannot decrypt the platform key: wrong TDS_KEY_PASSPHRASE?") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError("the platform key is not an Ed25519 key")
    return Signer(private)
