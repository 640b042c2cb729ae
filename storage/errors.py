"""Errors of the storage package."""

from policies import DomainError


class StorageError(DomainError):
    """The storage is misconfigured, or a path does not belong to it."""

    kind = "invalid"


class StorageUnavailable(StorageError):
    """The object storage did not answer (or refused): try again once it is back."""

    kind = "unavailable"
