"""Ledger events of the sandbox: jobs and security alerts, with the model of each payload. A
failed job's event names the class of the failure, never its message (it may quote data)."""

from typing import Literal

from lineage.events import Payload, event
from sandbox.states import JobStatus


class Source(Payload):
    """A table a job read: a granted dataset version, the merchant's own table or an earlier
    job's output."""
    kind: Literal["dataset", "own", "output"]
    registration_no: str | None = None
    version: int | None = None
    sha256: str | None
    columns: list[str] | None = None
    job_id: int | None = None
    own_id: int | None = None


class Queued(Payload):
    grant_id: int
    target: Literal["simulated", "real"]
    output_name: str | None
    sources: dict[str, Source]
    dp_sha256: str | None = None  # a DP job: the hash of its specification (never its keys)


class Running(Payload):
    attempt: int
    worker: str


class Requeued(Payload):
    reason: str
    attempts: int


class Finished(Payload):
    duration_ms: int
    attempts: int
    rows: int | None = None
    sha256: str | None = None
    columns: list[str] | None = None
    error_class: str | None = None


class Alert(Payload):
    alert_id: int
    kind: str
    job_id: int | None = None
    jobs_today: int | None = None
    window: int | None = None
    same_shape: int | None = None
    failed: int | None = None
    job_ids: list[int] | None = None


class Kept(Payload):
    draft: str
    output_name: str


class Acknowledged(Payload):
    alert_id: int


class OwnUploaded(Payload):
    grant_id: int
    name: str
    sha256: str
    rows: int
    columns: list[str]
    level: str
    entities: list[str]
    person_key: str | None = None


class OwnDeleted(Payload):
    grant_id: int
    by: Literal["merchant", "grant_end"]
    sha256: str


class OwnPreview(Payload):
    status: Literal["ready", "failed"]


class Spent(Payload):
    """Epsilon a DP job on real data took from its grant's budget (figures, never data), as
    decimal text: the ledger's canonical form has no floats."""
    job_id: int
    epsilon: str
    spent: str
    budget: str


JOB_QUEUED = event("job.queued", "job", "a job was submitted", Queued)
JOB_RUNNING = event("job.running", "job", "a worker took a job", Running)
JOB_REQUEUED = event("job.requeued", "job", "a job whose worker stopped was queued again",
                     Requeued)
JOB_KEPT = event("job.kept", "job", "a simulated draft was given a name", Kept)
JOB_CANCEL_REQUESTED = event("job.cancel_requested", "job", "a running job was asked to stop")
JOB_SUCCEEDED = event("job.succeeded", "job", "a job left its output", Finished)
JOB_FAILED = event("job.failed", "job", "a job failed (its class, never its message)", Finished)
JOB_TIMED_OUT = event("job.timed_out", "job", "a job ran out of time", Finished)
JOB_CANCELLED = event("job.cancelled", "job", "a job was cancelled", Finished)
OWN_DATA_UPLOADED = event("own_data.uploaded", "own_data", "a merchant uploaded its own table "
                          "into a workspace (scanned; ids, hash and entities only)", OwnUploaded)
OWN_DATA_DELETED = event("own_data.deleted", "own_data", "an own table was deleted (by its "
                         "merchant or with its workspace)", OwnDeleted)
OWN_DATA_PREVIEW = event("own_data.preview", "own_data", "the simulated side of an own table "
                         "was built or failed", OwnPreview)
DP_SPENT = event("dp.budget_spent", "grant", "a DP job on real data spent epsilon of its "
                 "grant's budget", Spent)
SECURITY_ALERT = event("security.alert", "grant", "a budget spent or a probing pattern", Alert)
SECURITY_ALERT_ACKNOWLEDGED = event("security.alert_acknowledged", "grant",
                                    "an administrator looked into an alert", Acknowledged)

FINISHED = {JobStatus.SUCCEEDED: JOB_SUCCEEDED, JobStatus.FAILED: JOB_FAILED,
            JobStatus.TIMED_OUT: JOB_TIMED_OUT, JobStatus.CANCELLED: JOB_CANCELLED}
