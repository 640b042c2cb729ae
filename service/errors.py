"""Errors of the service shell (store, home, authentication)."""

from policies.errors import DomainError


class ServiceError(DomainError):
    pass


class NotInitialized(ServiceError):
    kind = "unavailable"


class Unauthenticated(ServiceError):
    kind = "unauthenticated"


class InvalidInput(ServiceError):
    kind = "invalid"


class Conflict(ServiceError):
    kind = "conflict"


class NotFound(ServiceError):
    kind = "not_found"
