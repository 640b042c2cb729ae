"""The lifecycle of a job."""

from __future__ import annotations

from enum import StrEnum

from policies.lifecycle import Lifecycle


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


_J = JobStatus
JOBS = Lifecycle("job", {
    # A queued job is cancelled, or fails when its grant ended before it could run.
    _J.QUEUED: (_J.RUNNING, _J.CANCELLED, _J.FAILED),
    # A running job whose worker stopped is queued again while attempts are left.
    _J.RUNNING: (_J.SUCCEEDED, _J.FAILED, _J.TIMED_OUT, _J.CANCELLED, _J.QUEUED),
    _J.SUCCEEDED: (), _J.FAILED: (), _J.TIMED_OUT: (), _J.CANCELLED: (),
})
FINAL_STATES = tuple(s.value for s in JobStatus if s in JOBS.final)
ACTIVE_STATES = tuple(s.value for s in JobStatus if s in JOBS.open)
