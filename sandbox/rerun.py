"""Run the platform's own query over exactly what a finished job read, in a job process.

Egress checks need statistics of a job's source data per output cell (contributors, largest
values...). They are computed by a query derived from the job's SQL, run like a job: in its own
locked DuckDB process, over the same granted tables (datasets and the outputs that existed when
the job ran), under the same limits. Nothing of it is recorded as a job of the merchant.
"""

from __future__ import annotations

import shutil

import pyarrow as pa
from sqlalchemy.orm import Session

from catalog.models import Grant
from policies import Policy
from sandbox import jobs
from sandbox.errors import JobFailed
from sandbox.models import Job
from sandbox.pool import grant_key, job_spec, work_directory
from sandbox.process import run_once
from sandbox.spec import OUTPUT_NAME
from storage import Storage
from vault.files import read_table


def over_job_inputs(session: Session, data: Storage, policy: Policy, secret: bytes, job: Job,
                    sql: str) -> pa.Table:
    """The result of ``sql`` over the tables ``job`` could read, each dataset with its
    contributors (``engine.PERSON_COLUMN``) (raises JobFailed)."""
    grant = session.get(Grant, job.grant_id)
    tables = jobs.exposures(session, data, policy, grant, job.target, before_job=job.id,
                            persons=True)
    key = grant_key(session, job)
    workdir = work_directory(policy, job, key)
    try:
        spec = job_spec(data, policy, secret, job, tables, workdir, grant_key=key)
        spec["sql"] = sql  # its stage holds the contributors (pool.job_spec names it apart)
        outcome = run_once(spec)
        if outcome.get("status") != "succeeded":
            # Its message may quote the data, and check messages are read by the merchant and
            # kept with the request: only the class is said.
            error_class = outcome.get("error_class") or outcome.get("status") or "failed"
            raise JobFailed(f"the check query over the real data failed "
                            f"({error_class.replace('_', ' ')})", error_class)
        return read_table(workdir / OUTPUT_NAME, key)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
