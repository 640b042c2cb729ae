"""The master key that wraps every data key.

It comes, in this order, from a KMS-style key file named by ``TDS_KEY_FILE`` (JSON
``{"kid": ..., "key": <base64 of 32 bytes>}``: what a key-management service exports or mounts),
from ``TDS_KEY_PASSPHRASE`` (scrypt over the passphrase and the home's salt), or from the home's
own key file, which ``tds init`` writes (mode 0600) when neither is given. Where the data and the
store are kept apart from the key file or the passphrase, a copy of the data is unreadable
without it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from vault.errors import MasterKeyMissing

HOME_KEY_NAME = "master.key"  # in the home's keys folder
SALT_NAME = "master.salt"
KEY_BYTES = 32
# scrypt's cost for a passphrase: about 0.1 s and 32 MiB once per process.
SCRYPT = {"n": 2 ** 15, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024}


@dataclass(frozen=True)
class MasterKey:
    key: bytes = field(repr=False)
    source: str  # "file" or "passphrase"

    @property
    def kid(self) -> str:
        """The key's public id: a keyed digest, which tells nothing of the key."""
        return fingerprint(self.key, b"tds master key id")


def fingerprint(key: bytes, label: bytes = b"tds data key id") -> str:
    return hmac.new(key, label, hashlib.sha256).hexdigest()[:16]


def write_key_file(path: Path) -> MasterKey:
    """A new random master key in a KMS-style file (mode 0600); refuses to overwrite one."""
    key = secrets.token_bytes(KEY_BYTES)
    master = MasterKey(key, "file")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"kid": master.kid, "key": base64.b64encode(key).decode("ascii")}, handle)
    return master


def read_key_file(path: Path) -> MasterKey:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        key = base64.b64decode(document["key"], validate=True)
    except OSError as exc:
        raise MasterKeyMissing("the master key file {path} cannot be read ({strerror}): set "
                               "TDS_KEY_FILE to the platform's key file",
                               path=path, strerror=exc.strerror) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise MasterKeyMissing("the master key file {path} is not a key file (JSON with a "
                               "base64 \"key\" of 32 bytes)", path=path) from exc
    if len(key) != KEY_BYTES:
        raise MasterKeyMissing("the master key in {path} is not 32 bytes long", path=path)
    master = MasterKey(key, "file")
    if document.get("kid") not in (None, master.kid):
        raise MasterKeyMissing("the master key file {path} is damaged: its key does not match "
                               "its id", path=path)
    return master


def from_passphrase(passphrase: str, keys_dir: Path) -> MasterKey:
    salt_path = keys_dir / SALT_NAME
    if not salt_path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(salt_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(16))
    salt = salt_path.read_bytes()
    key = hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, dklen=KEY_BYTES, **SCRYPT)
    return MasterKey(key, "passphrase")


def load(keys_dir: Path, passphrase: str | None, key_file: str | Path | None) -> MasterKey:
    """The platform's master key from the first source configured (see the module)."""
    if key_file:
        return read_key_file(Path(key_file).expanduser())
    if passphrase:
        return from_passphrase(passphrase, keys_dir)
    path = keys_dir / HOME_KEY_NAME
    if not path.exists():
        raise MasterKeyMissing("no master key: set TDS_KEY_FILE (a key file) or "
                               "TDS_KEY_PASSPHRASE, or run `tds init` to create the home's "
                               "key file")
    return read_key_file(path)


def ensure_home_key(keys_dir: Path, passphrase: str | None, key_file: str | Path | None) -> bool:
    """Create the home's key file when no other source is configured; True if created."""
    path = keys_dir / HOME_KEY_NAME
    if key_file or passphrase or path.exists():
        return False
    write_key_file(path)
    return True
