"""Ledger events of the vault: ids and fingerprints of data keys, never key bytes."""

from typing import Literal

from lineage.events import Payload, event


class Created(Payload):
    scope: Literal["dataset", "grant", "egress"]
    scope_id: int
    fingerprint: str
    master_kid: str


class Destroyed(Payload):
    scope: Literal["dataset", "grant", "egress"]
    scope_id: int
    fingerprint: str
    reason: str


class Rewrapped(Payload):
    scope: Literal["dataset", "grant", "egress"]
    scope_id: int
    fingerprint: str
    old_master_kid: str
    master_kid: str


KEY_CREATED = event("key.created", "data_key", "a data key was made for a dataset, a grant or "
                    "the egress records (its fingerprint; the key itself only wrapped, in the "
                    "store)", Created)
KEY_DESTROYED = event("key.destroyed", "data_key", "a data key was destroyed: every copy of "
                      "what it encrypted is unreadable from then on (crypto-shredding)", Destroyed)
KEY_REWRAPPED = event("key.rewrapped", "data_key", "a data key was wrapped by a new master key "
                      "(the key itself, and what it encrypts, unchanged)", Rewrapped)
