"""Errors of the service shell (store, home)."""

from policies.errors import DomainError


class ServiceError(DomainError):
    pass


class NotInitialized(ServiceError):
    kind = "unavailable"


class Conflict(ServiceError):
    kind = "conflict"

