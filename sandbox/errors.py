"""Errors of the sandbox."""

from policies.errors import DomainError


class SandboxError(DomainError):
    pass


class QueryRefused(SandboxError):
    """The SQL is not one plain SELECT over the workspace, or it tries to leave the sandbox."""

    kind = "invalid"


class JobFailed(SandboxError):
    kind = "invalid"


class JobTimedOut(JobFailed):
    """The job ran longer than the policy allows."""


class NotFound(SandboxError):
    kind = "not_found"


class Conflict(SandboxError):
    kind = "conflict"
