"""Ledger events of the sandbox: jobs and security alerts."""

from lineage.events import event
from sandbox.states import JobStatus

JOB_QUEUED = event("job.queued", "job", "a job was submitted")
JOB_RUNNING = event("job.running", "job", "a worker took a job")
JOB_REQUEUED = event("job.requeued", "job", "a job whose worker stopped was queued again")
JOB_CANCEL_REQUESTED = event("job.cancel_requested", "job", "a running job was asked to stop")
JOB_SUCCEEDED = event("job.succeeded", "job", "a job left its output")
JOB_FAILED = event("job.failed", "job", "a job failed (its class, never its message)")
JOB_TIMED_OUT = event("job.timed_out", "job", "a job ran out of time")
JOB_CANCELLED = event("job.cancelled", "job", "a job was cancelled")
SECURITY_ALERT = event("security.alert", "grant", "a budget spent or a probing pattern")
SECURITY_ALERT_ACKNOWLEDGED = event("security.alert_acknowledged", "grant",
                                    "an administrator looked into an alert")

FINISHED = {JobStatus.SUCCEEDED: JOB_SUCCEEDED, JobStatus.FAILED: JOB_FAILED,
            JobStatus.TIMED_OUT: JOB_TIMED_OUT, JobStatus.CANCELLED: JOB_CANCELLED}
