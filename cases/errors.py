"""Errors of appeals, complaints and incidents."""

from policies.errors import DomainError


class CaseError(DomainError):
    pass


class InvalidCase(CaseError):
    kind = "invalid"


class CaseNotFound(CaseError):
    kind = "not_found"
