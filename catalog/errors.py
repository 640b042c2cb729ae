"""Errors of the catalog, applications and grants."""

from policies.errors import DomainError


class CatalogError(DomainError):
    pass


class InvalidInput(CatalogError):
    kind = "invalid"


class NotFound(CatalogError):
    kind = "not_found"


class Conflict(CatalogError):
    kind = "conflict"


class GrantUnusable(CatalogError):
    """The grant is expired or revoked: no new job may use it."""

    kind = "forbidden"


class StorageFull(CatalogError):
    """The platform's storage had no room for a file; nothing half-written was kept."""

    kind = "storage_full"
