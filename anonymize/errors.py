"""Errors of the de-identification engine."""

from policies.errors import DomainError


class AnonymizeError(DomainError):
    kind = "invalid"


class OperatorError(AnonymizeError):
    """An operator was called with arguments it cannot apply."""
