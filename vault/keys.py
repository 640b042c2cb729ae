"""Data keys: made for a dataset or a grant, unwrapped for the code that reads or writes its
files, destroyed when their scope ends.

The master key reaches this package through the session (``session.info[MASTER]``, a callable
the shell's store sets), so domain code that holds a session holds what it needs, and nothing
that lacks one can unwrap a key.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from lineage import append
from policies import SYSTEM, Actor
from vault import events
from vault.errors import KeyDestroyed, MasterKeyMissing, VaultError
from vault.master import KEY_BYTES, MasterKey, fingerprint
from vault.models import DataKey, utcnow

MASTER = "tds.master_key"  # session.info key: a callable returning the MasterKey
# "egress" (id 0): the platform's own disclosure-control records that outlive grants (the
# cells fingerprints of released outputs, which later requests are compared with).
SCOPES = ("dataset", "grant", "egress")


def master(session: Session) -> MasterKey:
    provider: Callable[[], MasterKey] | None = session.info.get(MASTER)
    if provider is None:
        raise MasterKeyMissing("no master key is configured for this store")
    return provider()


def _wrap(wrapping: MasterKey, key: bytes, scope: str, scope_id: int) -> str:
    nonce = secrets.token_bytes(12)
    sealed = nonce + AESGCM(wrapping.key).encrypt(nonce, key, _aad(scope, scope_id))
    return base64.b64encode(sealed).decode("ascii")


def _aad(scope: str, scope_id: int) -> bytes:
    # Binds a wrapped key to its scope: a row copied onto another scope does not unwrap.
    return f"tds-data-key|{scope}|{scope_id}".encode()


def create(session: Session, scope: str, scope_id: int, actor: Actor = SYSTEM) -> bytes:
    """A new data key for ``scope``/``scope_id`` (the existing one if it has one), wrapped in
    the store with a ``key.created`` event; returns the key."""
    if scope not in SCOPES:
        raise VaultError("unknown key scope {scope!r}", scope=scope)
    row = _row(session, scope, scope_id)
    if row is not None:
        return _unwrap(session, row)
    wrapping = master(session)
    key = secrets.token_bytes(KEY_BYTES)
    row = DataKey(scope=scope, scope_id=scope_id, fingerprint=fingerprint(key),
                  master_kid=wrapping.kid, wrapped=_wrap(wrapping, key, scope, scope_id))
    session.add(row)
    session.flush()
    append(session, actor, events.KEY_CREATED, f"data_key:{row.id}",
           {"scope": scope, "scope_id": scope_id, "fingerprint": row.fingerprint,
            "master_kid": row.master_kid})
    return key


def get(session: Session, scope: str, scope_id: int) -> bytes | None:
    """The data key of ``scope``/``scope_id``; None when the scope has none (its files are
    not encrypted). Raises KeyDestroyed for a destroyed key, MasterKeyMissing when the master
    key is not the one that wrapped it."""
    row = _row(session, scope, scope_id)
    return None if row is None else _unwrap(session, row)


def _row(session: Session, scope: str, scope_id: int) -> DataKey | None:
    return session.scalar(select(DataKey).where(DataKey.scope == scope,
                                                DataKey.scope_id == scope_id))


def _unwrap(session: Session, row: DataKey) -> bytes:
    if row.wrapped is None:
        raise KeyDestroyed("the data key of {scope} {scope_id} was destroyed on {when:%Y-%m-%d "
                           "%H:%M} UTC ({reason}): its files cannot be read any more",
                           scope=row.scope, scope_id=row.scope_id, when=row.destroyed_at,
                           reason=row.destroyed_reason)
    wrapping = master(session)
    if wrapping.kid != row.master_kid:
        raise MasterKeyMissing(
            "the data key of {scope} {scope_id} is wrapped by master key {wanted}, but the "
            "master key in use is {mine}: set TDS_KEY_FILE or TDS_KEY_PASSPHRASE to the "
            "platform's master key", scope=row.scope, scope_id=row.scope_id,
            wanted=row.master_kid, mine=wrapping.kid)
    sealed = base64.b64decode(row.wrapped)
    try:
        key = AESGCM(wrapping.key).decrypt(sealed[:12], sealed[12:], _aad(row.scope, row.scope_id))
    except InvalidTag as exc:
        raise VaultError("the wrapped data key of {scope} {scope_id} is damaged",
                         scope=row.scope, scope_id=row.scope_id) from exc
    return key


def destroy(session: Session, scope: str, scope_id: int, reason: str,
            actor: Actor = SYSTEM) -> DataKey | None:
    """Destroy the data key of ``scope``/``scope_id`` (its wrapped bytes are erased from the
    store) with a ``key.destroyed`` event in the same transaction; None when it has none."""
    row = _row(session, scope, scope_id)
    if row is None or row.wrapped is None:
        return row
    row.wrapped, row.destroyed_at, row.destroyed_reason = None, utcnow(), reason[:40]
    append(session, actor, events.KEY_DESTROYED, f"data_key:{row.id}",
           {"scope": scope, "scope_id": scope_id, "fingerprint": row.fingerprint,
            "reason": row.destroyed_reason})
    return row


def listed(session: Session, scope: str | None = None) -> list[DataKey]:
    query = select(DataKey).order_by(DataKey.id)
    if scope is not None:
        query = query.where(DataKey.scope == scope)
    return list(session.scalars(query))


def rewrap(session: Session, new: MasterKey, actor: Actor = SYSTEM) -> list[DataKey]:
    """Wrap every live data key by the master key ``new`` instead (master key rotation), one
    ``key.rewrapped`` event each, all in this transaction; the keys and files are unchanged.
    Afterwards the platform must run with ``new`` (TDS_KEY_FILE or TDS_KEY_PASSPHRASE)."""
    done = []
    for row in listed(session):
        if row.wrapped is None or row.master_kid == new.kid:
            continue
        key = _unwrap(session, row)
        old = row.master_kid
        row.wrapped, row.master_kid = _wrap(new, key, row.scope, row.scope_id), new.kid
        append(session, actor, events.KEY_REWRAPPED, f"data_key:{row.id}",
               {"scope": row.scope, "scope_id": row.scope_id, "fingerprint": row.fingerprint,
                "old_master_kid": old, "master_kid": new.kid})
        done.append(row)
    return done
