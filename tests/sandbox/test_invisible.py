"""Usable but invisible: what a merchant learns of a real-data job is classes and coarse
figures, never values (errors, row counts, hashes, timings), and probing raises alerts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from lineage import LedgerEvent
from sandbox import budget, jobs, visibility
from sandbox.models import Alert, Job
from tests.helpers import read_stored, refused, set_policy

# Each of these fails at run time with a message DuckDB builds from the granted values.
LEAKING = [
    "SELECT error(string_agg(department, '|')) AS e FROM visits",
    "SELECT CAST(department AS INTEGER) AS e FROM visits",
    "SELECT CAST(district AS UUID) AS e FROM visits",
    "SELECT CAST(department AS ENUM('x')) AS e FROM visits",
    "SELECT regexp_matches(department, department || '(') AS e FROM visits",
    "SELECT json_extract(department, '$.a') AS e FROM visits",
    "SELECT strptime(district, '%Y') AS e FROM visits",
    "SELECT from_base64(department) AS e FROM visits",
    "SELECT CAST(fee * 1e30 AS INTEGER) AS e FROM visits",
    "SELECT make_date(CAST(age AS BIGINT) * 100000, 1, 1) AS e FROM visits",
]


LATER = dt.datetime(2100, 1, 1)  # when every finished job's outcome shows


def submit(home, actor, grant_id, sql, output="out", target="real"):
    with home.store.transaction() as s:
        return jobs.submit(s, actor, home.policy, home.data, grant_id, sql, output, target).id


def distinct_values(home, grant_id) -> set[str]:
    """Every granted value of the test data, as text: none may show in what a merchant reads."""

    with home.store.read() as s:
        job = s.scalar(select(Job).where(Job.grant_id == grant_id))
        from catalog.models import Grant

        path = home.data.fetch(s.get(Grant, job.grant_id).items[0].dataset_version.path)
    table = read_stored(home, path, columns=["district", "department"])
    return {str(v) for c in table.columns for v in c.to_pylist() if v and len(str(v)) > 1}


@pytest.mark.parametrize("sql", LEAKING, ids=[f"leak{i}" for i in range(len(LEAKING))])
def test_real_job_errors_show_a_class_and_a_reference_never_values(home, people, grant_id, sql):
    job_id = submit(home, people.merchant, grant_id, sql)
    job = home.run_job(job_id)
    assert job.status == "failed"
    values = distinct_values(home, grant_id)
    with home.store.read() as s:
        job = s.get(Job, job_id)
        merchant_view = jobs.view(home.data, home.policy, job, people.merchant, LATER)
        admin_view = jobs.view(home.data, home.policy, job, people.admin)
        ledger = [e.payload for e in s.scalars(select(LedgerEvent).where(
            LedgerEvent.subject == f"job:{job_id}"))]
    seen = json.dumps(merchant_view, ensure_ascii=False) + " ".join(ledger)
    assert not [v for v in values if v in seen], "a granted value shows"
    assert merchant_view["error_class"] and f"reference job {job_id}" in merchant_view["error"]
    assert "error_detail" not in merchant_view
    assert admin_view["error_detail"]  # the operators read the message itself
    assert all("error\"" not in p or "error_class" in p for p in ledger)


def test_simulated_job_errors_show_the_message(home, people, grant_id):
    job = home.run_job(submit(home, people.merchant, grant_id,
                              "SELECT CAST(department AS INTEGER) AS e FROM visits",
                              target="simulated"))
    assert job.status == "failed" and "Could not convert" in job.error


def test_schema_errors_of_real_jobs_are_shown(home, people, grant_id):
    # A binder error is decided before any value is read: it speaks of the SQL only.
    job = home.run_job(submit(home, people.merchant, grant_id,
                              "SELECT nosuch FROM visits"))
    assert job.status == "failed" and "nosuch" in job.error and job.error_class == "binder"


def test_a_real_job_shows_its_merchant_a_band_of_rows_no_hash_coarse_times(home, people,
                                                                          grant_id):
    # range(N) WHERE i < (SELECT value) turns a row count into a value: the merchant reads a band.
    sql = "SELECT range AS i FROM range(1000) WHERE range < (SELECT max(age) FROM visits) + 137"
    job_id = submit(home, people.merchant, grant_id, sql)
    assert home.run_job(job_id).status == "succeeded"
    with home.store.read() as s:
        job = s.get(Job, job_id)
        rows = job.output_rows
        mine = jobs.view(home.data, home.policy, job, people.merchant, LATER)
        listed = [visibility.shown(home.policy, j, people.merchant, LATER)
                  for j in jobs.list_jobs(s, people.merchant, grant_id)]
    assert 137 < rows < 1000
    for shown in (mine, listed[0]):
        assert shown["output"]["rows"] is None and shown["output"]["sha256"] is None
        assert shown["output"]["rows_band"] == [100, 999] and shown["output"]["rows_text"] == "100–999"
        assert shown["duration_ms"] is None and shown["duration_s"] % 10 == 0
        assert shown["finished_at"].endswith("0Z")


def test_the_simulated_target_and_the_operators_see_exact_figures(home, people, grant_id):
    job_id = submit(home, people.merchant, grant_id, "SELECT range AS i FROM range(123)", "s",
                    "simulated")
    home.run_job(job_id)
    with home.store.read() as s:
        job = s.get(Job, job_id)
        assert visibility.shown(home.policy, job, people.merchant)["output"]["rows"] == 123
        assert visibility.shown(home.policy, job, people.admin)["output"]["sha256"]


def test_a_real_jobs_outcome_shows_at_its_rounded_duration(home, people, grant_id):
    # Polling the status would time the job to the poll's interval: until its start plus its
    # rounded duration, the merchant sees it running.
    job_id = submit(home, people.merchant, grant_id, "SELECT count(*) AS n FROM visits")
    job = home.run_job(job_id)
    shown_at = visibility.reveal_at(home.policy, job)
    step = home.policy.sandbox.real_timing_seconds
    assert (shown_at - job.started_at).total_seconds() % step == 0
    before = visibility.shown(home.policy, job, people.merchant, shown_at - dt.timedelta(seconds=1))
    assert before["status"] == "running" and before["output"] is None
    after = visibility.shown(home.policy, job, people.merchant, shown_at)
    assert after["status"] == "succeeded" and after["output"]["rows_text"] == "1–9"
    assert job.finished_at <= shown_at and after["duration_s"] % step == 0
    # Reviewers, administrators and simulated jobs are not delayed.
    assert visibility.shown(home.policy, job, people.admin, job.finished_at)["status"] == "succeeded"
    assert 0 < visibility.seconds_until_shown(home.policy, job, job.finished_at) <= step


@pytest.mark.parametrize("band", [(0, (0, 0)), (1, (1, 9)), (9, (1, 9)), (10, (10, 99)),
                                  (999_999, (100_000, 999_999))])
def test_row_bands(band):
    rows, expected = band
    assert visibility.row_band(rows, 10) == expected


@pytest.mark.parametrize("sql", [
    "SELECT random() AS r FROM visits", "SELECT now() AS t", "SELECT current_timestamp AS t",
    "SELECT current_date AS d", "SELECT gen_random_uuid() AS u",
    "SELECT * FROM visits USING SAMPLE 10", "SELECT * FROM visits TABLESAMPLE 10%",
])
def test_real_jobs_must_be_deterministic(home, people, grant_id, sql):
    with refused(home, "deterministic"):
        submit(home, people.merchant, grant_id, sql)
    # ... simulated ones may use them while developing.
    submit(home, people.merchant, grant_id, sql, "trial", "simulated")


def test_the_daily_budget_of_real_jobs_refuses_and_alerts(home, people, grant_id):
    set_policy(home, real_jobs_per_grant_day="3")
    for i in range(3):
        submit(home, people.merchant, grant_id, f"SELECT {i} AS v", f"o{i}")
    with home.store.read() as s:
        alerts = budget.list_alerts(s, people.admin)
        assert [a.kind for a in alerts] == ["budget_spent"]
        assert s.scalar(select(LedgerEvent).where(LedgerEvent.action == "security.alert"))
    with refused(home, "budget of 3 real-data jobs"):
        submit(home, people.merchant, grant_id, "SELECT 9 AS v", "o9")
    # Simulated jobs are not counted: developing goes on.
    submit(home, people.merchant, grant_id, "SELECT 9 AS v", "o9", "simulated")


def test_jobs_differing_only_in_literals_raise_one_probing_alert(home, people, grant_id):
    set_policy(home, probe_same_shape="4")
    for i in range(6):
        submit(home, people.merchant, grant_id,
               f"SELECT count(*) AS n FROM visits WHERE age < {20 + i}", f"p{i}")
    with home.store.read() as s:
        alerts = [a.as_dict() for a in s.scalars(select(Alert))]
    assert [a["kind"] for a in alerts] == ["repeated_shape"]  # once, until acknowledged
    assert alerts[0]["details"]["same_shape"] == 4
    with home.store.transaction() as s:
        budget.acknowledge(s, people.admin, alerts[0]["id"])
    submit(home, people.merchant, grant_id, "SELECT count(*) AS n FROM visits WHERE age < 99",
           "p9")
    with home.store.read() as s:
        assert len(budget.list_alerts(s, people.admin, open_only=True)) == 1


def test_repeated_failures_raise_an_alert(home, people, grant_id):
    set_policy(home, probe_failures="3")
    for i in range(3):
        home.run_job(submit(home, people.merchant, grant_id,
                            f"SELECT CAST(department || '{i}' AS INTEGER) AS v FROM visits",
                            f"f{i}"))
    with home.store.read() as s:
        assert [a.kind for a in budget.list_alerts(s, people.admin)] == ["failures"]


def test_only_administrators_read_alerts(home, people, grant_id):
    with refused(home, ".", kind="forbidden"), home.store.read() as s:
        budget.list_alerts(s, people.merchant)


def test_reviewers_read_only_jobs_sent_to_them_for_review(home, people, grant_id):
    job_id = submit(home, people.merchant, grant_id, "SELECT 1 AS v")
    home.run_job(job_id)
    with home.store.read() as s, pytest.raises(jobs.NotFound):
        jobs.get(s, people.reviewer, job_id)
    with home.store.read() as s:
        assert jobs.list_jobs(s, people.reviewer) == []
