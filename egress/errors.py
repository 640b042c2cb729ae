"""Errors of egress requests, reviews and releases."""

from policies.errors import DomainError


class EgressError(DomainError):
    pass


class InvalidRequest(EgressError):
    kind = "invalid"


class NotFound(EgressError):
    kind = "not_found"


class Conflict(EgressError):
    kind = "conflict"


class ReviewRefused(EgressError):
    kind = "forbidden"


class StorageFull(EgressError):
    """The release storage had no room for a bundle; the release did not happen."""

    kind = "storage_full"
