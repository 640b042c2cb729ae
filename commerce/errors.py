"""Errors of products, prices, sales and costs."""

from policies.errors import DomainError


class CommerceError(DomainError):
    pass


class InvalidCommerce(CommerceError):
    kind = "invalid"


class ProductNotFound(CommerceError):
    kind = "not_found"


class CommerceConflict(CommerceError):
    kind = "conflict"
