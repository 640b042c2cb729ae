"""Jobs see only granted columns, cannot leave the sandbox, and leave outputs inside."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lineage import LedgerEvent
from sandbox import jobs
from tests.helpers import read_stored, refused


def run(home, people, grant_id, sql, output="out", target="real"):
    with home.store.transaction() as s:
        job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id, sql, output,
                             target).id
    home.run_job(job_id)
    with home.store.read() as s:
        return jobs.get(s, people.merchant, job_id).as_dict()


def test_a_job_writes_its_output_inside_and_shows_only_metadata(home, people, grant_id):
    job = run(home, people, grant_id,
              "SELECT district, count(*) AS visits, avg(fee) AS fee FROM visits GROUP BY 1")
    assert job["status"] == "succeeded", job["error"]
    assert [c["name"] for c in job["output"]["schema"]] == ["district", "visits", "fee"]
    assert job["output"]["rows"] == 11
    assert "rows_data" not in job and "data" not in job["output"]
    path = home.data.local("workspaces") / str(grant_id) / "outputs" / "out.parquet"
    assert read_stored(home, path).num_rows == 11
    assert job["sources"]["visits"]["kind"] == "dataset"


def test_outputs_chain_into_later_jobs(home, people, grant_id):
    run(home, people, grant_id, "SELECT district, fee FROM visits WHERE age > 30", "adults")
    job = run(home, people, grant_id, "SELECT district, sum(fee) AS total FROM adults GROUP BY 1",
              "totals")
    assert job["status"] == "succeeded", job["error"]
    assert job["sources"]["adults"]["kind"] == "output"


@pytest.mark.parametrize("sql,message", [
    ("SELECT patient_name FROM visits", "column 'patient_name' of visits is not granted"),
    ("SELECT no_such_column FROM visits", 'Referenced column "no_such_column" not found'),
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
    ("SELECT * FROM '/etc/passwd'", "no table '/etc/passwd'"),
    ("SELECT * FROM read_parquet('x.parquet')", "read_parquet"),
    ("SELECT * FROM glob('/*')", "glob"),
    ("SELECT getenv('HOME')", "getenv"),
    ("SELECT current_setting('memory_limit')", "current_setting"),
    ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
    ("SELECT * FROM query_table('vis' || 'its')", "query_table"),
    ("SELECT 1; SELECT 2", "exactly one statement"),
    ("COPY visits TO '/tmp/x.csv'", "only SELECT"),
    ("ATTACH '/tmp/x.db'", "only SELECT"),
    ("INSTALL httpfs", "only SELECT"),
    ("LOAD httpfs", "only SELECT"),
    ("SET threads = 1", "only SELECT"),
    ("PRAGMA version", "only SELECT"),
    ("CREATE TABLE t AS SELECT 1", "only SELECT"),
    ("SELECT * FROM ungranted", "no table 'ungranted'"),
    ("", "one SQL SELECT"),
    ("SELEC x", "does not parse"),
])
def test_escapes_and_ungranted_data_are_refused(home, people, grant_id, sql, message):
    try:
        with refused(home, message):
            run(home, people, grant_id, sql)
    except pytest.fail.Exception:
        # Some refusals happen when the job runs (DuckDB's binder): the job fails, with the reason.
        job = run(home, people, grant_id, sql, "late")
        assert job["status"] == "failed" and message in job["error"]


def test_jobs_are_refused_to_other_roles_and_organizations(home, people, grant_id):
    for actor in (people.reviewer, people.provider, people.admin):
        with refused(home, "needs the role", "forbidden"), home.store.transaction() as s:
            jobs.submit(s, actor, home.policy, home.data, grant_id, "SELECT 1 AS x", "x")
    with refused(home, f"no grant {grant_id}", "not_found"), home.store.transaction() as s:
        jobs.submit(s, people.merchant_b, home.policy, home.data, grant_id, "SELECT 1 AS x", "x")


def test_output_names_are_checked(home, people, grant_id):
    run(home, people, grant_id, "SELECT 1 AS x", "taken")
    for name, message in (("taken", "already has a table"), ("visits", "already has a table"),
                          ("../x", "output name"), ("A", "output name")):
        with refused(home, message), home.store.transaction() as s:
            jobs.submit(s, people.merchant, home.policy, home.data, grant_id, "SELECT 1 AS x",
                        name)


GRANTED = ["district", "department", "visit_date", "fee", "age"]
UNGRANTED = ["patient_name", "resident_id", "mobile", "address", "visit_id", "diagnosis"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(columns=st.lists(st.sampled_from(GRANTED + UNGRANTED), min_size=1, max_size=4),
       star=st.booleans(), n=st.integers(0, 10_000))
def test_no_ungranted_value_ever_comes_back(home, people, grant_id, visits_file, columns, star, n):
    select = "*" if star else ", ".join(f'"{c}"' for c in columns)
    sql = f"SELECT {select} FROM visits"
    with home.store.transaction() as s:
        try:
            job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id, sql,
                                 f"p{n}").id
        except Exception:
            return
    home.run_job(job_id)
    with home.store.read() as s:
        job = jobs.get(s, people.merchant, job_id)
        if job.status != "succeeded":
            # Refused for a reason: an ungranted column, or two output columns of one name.
            assert not star
            assert set(columns) & set(UNGRANTED) or len(set(columns)) < len(columns), job.error
            return
        out = read_stored(home, home.root / job.output_path)
    assert set(out.column_names) <= set(GRANTED)
    secrets = {str(v) for c in UNGRANTED for v in pq.read_table(visits_file, columns=[c])
               .column(0).to_pylist()}
    values = {str(v) for c in out.column_names for v in out.column(c).to_pylist()}
    assert not (values & secrets)


def test_a_simulated_run_without_a_name_is_a_draft_its_merchant_keeps(home, people, grant_id):
    draft = run(home, people, grant_id, "SELECT district, fee FROM visits", "", "simulated")
    assert draft["status"] == "succeeded", draft["error"]
    assert draft["draft"] and draft["output_name"] == f"draft_{draft['id']}"
    later = run(home, people, grant_id, f"SELECT count(*) AS n FROM draft_{draft['id']}", "",
                "simulated")
    assert later["status"] == "succeeded", later["error"]
    with home.store.transaction() as s:
        kept = jobs.keep(s, people.merchant, home.policy, draft["id"], "fees")
        assert (kept.output_name, kept.draft()) == ("fees", False)
    job = run(home, people, grant_id, "SELECT sum(fee) AS total FROM fees", "", "simulated")
    assert job["status"] == "succeeded", job["error"]
    with home.store.read() as s:
        last = s.scalars(select(LedgerEvent).where(LedgerEvent.subject == f"job:{draft['id']}")
                         .order_by(LedgerEvent.seq.desc())).first()
        last = (last.action, json.loads(last.payload))
    assert last == ("job.kept", {"draft": f"draft_{draft['id']}",
                                                        "output_name": "fees"})


@pytest.mark.parametrize("name,message", [
    ("fees", "not a draft"),            # kept already
    ("Fees", "is not allowed"),
    ("draft_9", "may not start with"),
    ("visits", "already has a table named"),
])
def test_keeping_a_draft_checks_its_new_name(home, people, grant_id, name, message):
    draft = run(home, people, grant_id, "SELECT fee FROM visits", "", "simulated")
    if message == "not a draft":
        with home.store.transaction() as s:
            jobs.keep(s, people.merchant, home.policy, draft["id"], name)
    with refused(home, message), home.store.transaction() as s:
        jobs.keep(s, people.merchant, home.policy, draft["id"], name)


def test_a_real_run_needs_a_name_and_drafts_are_the_merchants_own(home, people, grant_id):
    with refused(home, "a run on real data needs an output name"):
        run(home, people, grant_id, "SELECT fee FROM visits", "")
    draft = run(home, people, grant_id, "SELECT fee FROM visits", "", "simulated")
    with refused(home, f"no job {draft['id']}", "not_found"), home.store.transaction() as s:
        jobs.keep(s, people.merchant_b, home.policy, draft["id"], "mine")
    real = run(home, people, grant_id, "SELECT fee FROM visits", "fees_real")
    with refused(home, "not a draft"), home.store.transaction() as s:
        jobs.keep(s, people.merchant, home.policy, real["id"], "other")
