"""Which catalog files are encrypted at rest, and under which data key (vault).

A dataset has a data key when it was registered at a level whose policy says
``encrypt_at_rest``; its version files are encrypted with it. A grant has a data key when it
includes such a dataset (or one that has a key): its real-data files (stage, outputs, own
tables, egress findings) are encrypted with it, and the key is destroyed when the grant ends.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, object_session

from catalog.models import DatasetVersion, Grant
from policies import Policy
from vault import keys


def encrypts(policy: Policy, level: str) -> bool:
    return policy.level(level).encrypt_at_rest


def dataset_key(session: Session, dataset_id: int) -> bytes | None:
    """The data key of a dataset's files; None when they are not encrypted."""
    return keys.get(session, "dataset", dataset_id)


def version_key(version: DatasetVersion, session: Session | None = None) -> bytes | None:
    """The data key of ``version``'s file, through the session the version was loaded in."""
    session = session or object_session(version)
    if session is None:
        raise RuntimeError("the dataset version is not attached to a session")
    return dataset_key(session, version.dataset_id)


def key_for_registration(session: Session, policy: Policy, dataset_id: int, level: str
                         ) -> bytes | None:
    """The key a new version of the dataset is written with: its existing key, or a new one
    when its level is encrypted."""
    key = dataset_key(session, dataset_id)
    if key is None and encrypts(policy, level):
        key = keys.create(session, "dataset", dataset_id)
    return key


def grant_key(session: Session, grant_id: int) -> bytes | None:
    """The data key of a grant's real-data files; None when they are not encrypted."""
    return keys.get(session, "grant", grant_id)


def start_grant(session: Session, policy: Policy, grant: Grant) -> None:
    """Give a new grant its data key when any of its datasets is encrypted."""
    for item in grant.application.items:
        dataset = item.dataset_version.dataset
        if encrypts(policy, dataset.level) or keys.get(session, "dataset", dataset.id):
            keys.create(session, "grant", grant.id)
            return


def end_grant(session: Session, grant: Grant, reason: str) -> None:
    """Destroy the grant's data key (crypto-shredding), in the transaction that ends it."""
    keys.destroy(session, "grant", grant.id, reason)
