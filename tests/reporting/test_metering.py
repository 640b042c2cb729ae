"""Usage metered from the ledger: jobs, job seconds, rows, releases and downloads per
organization, grant and dataset, over a period."""

from __future__ import annotations

import datetime as dt

import pytest

from actions import Context
from actions import egress as egress_actions
from actions import ledger as ledger_actions
from reporting.metering import as_csv
from tests.egress.test_egress import ask, job, vote


def test_usage_counts_jobs_releases_and_downloads_per_grant_and_dataset(home, people,
                                                                       grant_id):
    from sandbox import jobs

    with home.store.transaction() as s:
        trial = jobs.submit(s, people.merchant, home.policy, home.data, grant_id,
                            "SELECT district, count(*) AS n FROM visits GROUP BY 1", "trial",
                            target="simulated").id
    home.run_job(trial)
    real = job(home, people, grant_id)
    request = ask(home, people, real)
    vote(home, people.reviewer, request["id"])
    released = vote(home, people.reviewer2, request["id"])
    egress_actions.download(Context.of(home, people.merchant), released["release_id"], "csv")
    today = dt.date.today()
    period = (today.isoformat(), (today + dt.timedelta(days=1)).isoformat())
    audit = Context.of(home, people.regulator)
    used = ledger_actions.usage(audit, *period)
    (row,) = used["grants"]
    assert (row["org"], row["grant"]) == ("粤数科技", grant_id)
    assert (row["jobs_real"], row["jobs_simulated"], row["releases"], row["downloads"]) == (
        1, 1, 1, 1)
    assert row["job_seconds"] > 0 and row["rows_produced"] > 0
    assert used["organizations"][0]["jobs_real"] == 1
    assert used["datasets"] == [{"dataset": "visits", "jobs_real": 1, "jobs_simulated": 1,
                                 "releases": 1, "downloads": 1}]
    assert as_csv(used).splitlines()[0] == ("org,grant,jobs_real,jobs_simulated,job_seconds,"
                                           "rows_produced,releases,downloads")
    before = ledger_actions.usage(audit, "2020-01-01", "2020-02-01")
    assert before["grants"] == [] and before["datasets"] == []
    with pytest.raises(Exception, match="needs the role admin, regulator"):
        ledger_actions.usage(Context.of(home, people.merchant), *period)
    with pytest.raises(Exception, match="a period runs from one ISO date to a later one"):
        ledger_actions.usage(audit, period[1], period[0])
