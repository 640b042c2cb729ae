"""Errors of the sandbox."""

from __future__ import annotations

from policies.errors import DomainError, storage_full


class SandboxError(DomainError):
    pass


class QueryRefused(SandboxError):
    """The SQL is not one plain SELECT over the workspace, or it tries to leave the sandbox."""

    kind = "invalid"


class JobFailed(SandboxError):
    """A job that could not finish. ``error_class`` names the failure in a word; a
    ``disclosive`` message may quote the data (DuckDB's own messages do: a failed cast names
    the value), so a real-data job's merchant sees only the class and a reference."""

    kind = "invalid"

    def __init__(self, message: str, error_class: str = "failed", disclosive: bool = False) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.disclosive = disclosive


class JobTimedOut(JobFailed):
    """The job ran longer than the policy allows."""

    @classmethod
    def after(cls, seconds: float) -> JobTimedOut:
        return cls(f"the job ran longer than the policy's {seconds:g} s and was stopped",
                   "time_limit")


class NotFound(SandboxError):
    kind = "not_found"


class Conflict(SandboxError):
    kind = "conflict"


def storage_error(exc: Exception, what: str) -> str:
    """A job's failure to write, said so its merchant knows what to do."""
    if isinstance(exc, OSError) and storage_full(exc):
        return (f"the workspace storage is full: {what}; write a smaller output, or ask the "
                "platform's operators for space")
    return f"{what} ({getattr(exc, 'strerror', None) or exc})"
