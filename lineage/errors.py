"""Errors of the lineage package."""

from policies.errors import DomainError


class LineageError(DomainError):
    pass


class SigningKeyError(LineageError):
    """The platform key is missing, unreadable or of the wrong kind."""

    kind = "unavailable"


class LedgerError(LineageError):
    kind = "conflict"
