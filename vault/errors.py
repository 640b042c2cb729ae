"""Errors of the vault package. Their messages name keys by id and fingerprint, never bytes."""

from policies import DomainError


class VaultError(DomainError):
    """A key or an encrypted file cannot be used."""

    kind = "unavailable"


class MasterKeyMissing(VaultError):
    """The master key is not configured, unreadable, or not the one the data keys were wrapped
    by: nothing encrypted can be read or written until it is."""


class KeyDestroyed(VaultError):
    """The data key was destroyed (crypto-shredded): what it encrypted is unreadable for good."""

    kind = "gone"
