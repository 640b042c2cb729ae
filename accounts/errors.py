"""Errors of accounts: users, organizations, tokens and passwords."""

from policies.errors import DomainError


class AccountError(DomainError):
    pass


class Unauthenticated(AccountError):
    kind = "unauthenticated"


class InvalidInput(AccountError):
    kind = "invalid"


class Conflict(AccountError):
    kind = "conflict"


class NotFound(AccountError):
    kind = "not_found"
