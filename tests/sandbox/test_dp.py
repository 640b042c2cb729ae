"""Differentially private jobs: the statement bounds each person, OpenDP adds calibrated noise,
the grant's epsilon is spent on real data and refused when gone, and nothing exact leaves."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lineage import LedgerEvent
from policies import load_policy
from sandbox import dp, dp_jobs, gate, jobs
from tests.helpers import read_stored, refused

POLICY = load_policy()
MEDIAN_FEE = {"statistic": "quantile", "column": "fee", "lower": 0, "upper": 2000, "alpha": 0.5}
MEAN_AGE = {"statistic": "mean", "column": "age", "lower": 0, "upper": 100}


def spec(**changes):
    found = {"table": "visits", "by": [{"column": "district"}],
             "measures": [{"statistic": "count"}, MEAN_AGE, MEDIAN_FEE],
             "epsilon": 0.5, "contributions": 1}
    found.update(changes)
    return found


def submit(home, people, grant_id, raw, output="dp_out", target="real"):
    with home.store.transaction() as s:
        return dp_jobs.submit(s, people.merchant, POLICY, home.data, grant_id, raw,
                              output, target).id


def run(home, people, grant_id, raw, output="dp_out", target="real"):
    job_id = submit(home, people, grant_id, raw, output, target)
    home.run_job(job_id)
    with home.store.read() as s:
        return jobs.get(s, people.merchant, job_id).as_dict()


def budget(home, people, grant_id):
    from catalog import applications

    with home.store.read() as s:
        return dp_jobs.status(s, POLICY, applications.get_grant(s, people.merchant,
                                                                     grant_id))


# -- the statement and the noise, on their own --------------------------------------------

def exact(parsed: dp.Spec, table: pa.Table) -> pa.Table:
    con = duckdb.connect()
    con.register(parsed.table, table)
    return con.sql(dp.statement(parsed, POLICY.privacy.quantile_candidates)).to_arrow_table()


def persons_table() -> pa.Table:
    # Person "p0" has 50 rows; the 30 others one each.
    persons = ["p0"] * 50 + [f"p{i}" for i in range(1, 31)]
    return pa.table({"region": ["a"] * 60 + ["b"] * 20, "amount": [10.0] * 80,
                     "tds__person": persons, "tds__row": list(range(80))})


def test_each_person_counts_at_most_contributions_rows():
    raw = {"table": "t", "by": [{"column": "region", "keys": ["a", "b", "none"]}],
           "measures": [{"statistic": "count"},
                        {"statistic": "sum", "column": "amount", "lower": 0, "upper": 5}],
           "epsilon": 1.0, "contributions": 2}
    result = exact(dp.parse(raw, POLICY), persons_table()).to_pylist()
    # a: 2 of p0's 50 rows, and p1..p10; b: p11..p30; a key without rows is still a group
    assert [(r["region"], r["tds__count"]) for r in result] == [("a", 12), ("b", 20),
                                                                ("none", 0)]
    assert float(result[0]["tds__sum_0"]) == 12 * 5  # values clamped to the upper bound


def test_noise_is_calibrated_by_opendp_to_the_epsilon():
    parsed = dp.parse({"table": "t", "by": [], "epsilon": 1.0, "contributions": 2,
                       "measures": [{"statistic": "count"},
                                    {"statistic": "sum", "column": "x", "lower": -3,
                                     "upper": 10}]}, POLICY)
    plan = dp.plan(parsed, POLICY)
    assert plan.epsilon_each == 0.5
    # discrete Laplace for counts: scale = c / eps; Laplace for sums: c * max|bound| / eps
    assert plan.count_scale == pytest.approx(4.0, rel=1e-6)
    assert plan.scales["sum_x"] == pytest.approx(40.0, rel=1e-6)
    described = plan.describe(parsed)
    assert described["delta"] == 0.0 and described["epsilon"] == 1.0
    assert described["mechanisms"] == {"count": "discrete Laplace", "sum_x": "Laplace"}


def test_privatize_releases_noisy_figures_near_the_truth():
    rows = 20_000
    table = pa.table({"g": ["a", "b"] * (rows // 2), "v": [float(i % 100) for i in range(rows)],
                      "tds__person": [str(i) for i in range(rows)],
                      "tds__row": list(range(rows))})
    parsed = dp.parse({"table": "t", "by": [{"column": "g", "keys": ["a", "b"]}],
                       "epsilon": 1.0, "measures": [
                           {"statistic": "count"},
                           {"statistic": "mean", "column": "v", "lower": 0, "upper": 100},
                           {"statistic": "quantile", "column": "v", "lower": 0, "upper": 100}]},
                      POLICY)
    figures = exact(parsed, table)
    noisy = dp.privatize(figures, parsed, POLICY).to_pylist()
    assert [r["g"] for r in noisy] == ["a", "b"]
    assert all(abs(r["count"] - rows / 2) < 200 for r in noisy)
    assert all(abs(r["mean_v"] - 49.5) < 5 for r in noisy)
    assert all(abs(r["p50_v"] - 49.5) < 10 for r in noisy)
    # The exact counts are not what is released (scale 4: all equal has odds below 1e-4).
    assert [r["count"] for r in noisy] != [rows // 2, rows // 2] or \
        [r["mean_v"] for r in noisy] != [49.0, 50.0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_any_accepted_filter_stays_one_expression_of_the_table(where):
    """Whatever the filter's text, an accepted spec's statement reads only its table, through
    the platform's own CTEs: a filter cannot close the expression and add a clause."""
    try:
        parsed = dp.parse(spec(where=where, by=[{"column": "district", "keys": ["x"]}]),
                          POLICY)
    except Exception as exc:
        assert type(exc).__name__ == "QueryRefused"
        return
    tree = gate.authorize(dp.statement(parsed, 101), {"visits"}, POLICY.sandbox, "real")
    assert gate.tables_read(tree) == {"visits"}
    assert sorted(gate.cte_names(tree)) == ["tds_bounded", "tds_keys", "tds_rows"]


@pytest.mark.parametrize("where", [
    "fee > 1) OR (1 = 1", "1 = 1 -- rest", "fee IN (SELECT fee FROM visits)",
    "tds__person = 'x'", "fee > 1 /* x */", "count(*) > 1", "1=1; SELECT 1",
    "row_number() OVER () < 5"])
def test_filters_that_are_not_one_plain_expression_are_refused(where):
    with pytest.raises(Exception, match=r"where|parse|SQL|aggregate|window|statement"):
        dp.parse(spec(where=where), POLICY)


@pytest.mark.parametrize("where", ["localtime", "age > 1 OR current_date IS NULL",
                                   "random() < 0.5"])
def test_filters_that_read_the_clock_or_chance_are_refused_when_the_spec_is_read(where):
    with pytest.raises(Exception, match=r"clock|another result"):
        dp.parse(spec(where=where), POLICY)


# -- jobs in a workspace ------------------------------------------------------------------

def test_a_real_dp_job_spends_epsilon_and_leaves_only_noisy_cells(home, people, grant_id):
    job = run(home, people, grant_id, spec(where="age >= 18"))
    assert job["status"] == "succeeded", job["error"]
    assert [c["name"] for c in job["output"]["schema"]] == [
        "district", "count", "mean_age", "p50_fee"]
    assert job["dp"]["epsilon"] == 0.5 and job["dp"]["delta"] == 0.0
    assert job["dp"]["spec"]["by"][0]["keys"]  # keys settled from the preview at submission
    output = read_stored(home, home.data.local(f"workspaces/{grant_id}/outputs/dp_out.parquet"))
    assert set(output.column_names) == {"district", "count", "mean_age", "p50_fee"}
    assert not any(c.startswith("tds__") for c in output.column_names)
    status = budget(home, people, grant_id)
    assert (status["budget"], status["spent"], status["remaining"]) == (2.0, 0.5, 1.5)
    with home.store.read() as s:
        spent = s.scalars(select(LedgerEvent.payload).where(
            LedgerEvent.action == "dp.budget_spent")).all()
        queued = s.scalars(select(LedgerEvent.payload).where(
            LedgerEvent.action == "job.queued")).all()
    assert [json.loads(e)["epsilon"] for e in spent] == ["0.5"]
    assert len(json.loads(queued[-1])["dp_sha256"]) == 64
    # The ledger keeps figures and a hash, never the keys or the filter.
    text = " ".join(spent + queued)
    assert "age >= 18" not in text and job["dp"]["spec"]["by"][0]["keys"][0] not in text


def test_a_spent_budget_refuses_the_next_job_and_changes_nothing(home, people, grant_id):
    for n in range(2):  # L3: a budget of 2.0, at most 1.0 per job
        assert run(home, people, grant_id, spec(epsilon=1.0), f"dp{n}")["status"] == \
            "succeeded"
    with refused(home, "privacy budget has 0 of epsilon 2 left"):
        submit(home, people, grant_id, spec(epsilon=0.1), "dp_more")
    # Simulated runs spend nothing and still run.
    job = run(home, people, grant_id, spec(), "dp_sim", target="simulated")
    assert job["status"] == "succeeded", job["error"]
    assert budget(home, people, grant_id)["spent"] == 2.0


BAD_SPECS = [
    ({"epsilon": 5}, "at most the policy's 1.0"),
    ({"epsilon": 0}, "above 0"),
    ({"contributions": 50}, "from 1 to the policy's 5"),
    ({"table": "nope"}, "not one"),
    ({"measures": [{"statistic": "sum", "column": "district", "lower": 0, "upper": 1}]},
     "not numeric"),
    ({"measures": [{"statistic": "mean", "column": "fee", "lower": 5, "upper": 1}]},
     "lower < upper"),
    ({"measures": [{"statistic": "median", "column": "fee"}]}, "one of count"),
    ({"measures": [{"statistic": "count"}, {"statistic": "count"}]}, "asked once"),
    ({"by": [{"column": "patient_name", "keys": ["x"]}]}, "not granted"),
    ({"by": [{"column": "district", "keys": [str(i) for i in range(10_001)]}]},
     "policy allows 10000"),
    ({"where": "fee > (SELECT 1)"}, "plain expression"),
]


def test_bad_specs_get_a_clear_error_and_change_nothing(home, people, grant_id):
    # One workspace for every case: each refusal is checked to leave no trace.
    for changes, message in BAD_SPECS:
        with refused(home, message):
            submit(home, people, grant_id, spec(**changes))


def test_a_group_column_seen_as_pseudonyms_is_refused(home, people, visits_file):
    from tests.conftest import apply, approve, register

    register(home, people.provider, visits_file)
    app_id = apply(home, people.merchant, columns=["district", "patient_name", "fee"])
    grant = approve(home, people.reviewer, app_id).grant.id
    with refused(home, "pseudonyms"):
        submit(home, people, grant, spec(by=[{"column": "patient_name", "keys": ["x"]}],
                                         measures=[{"statistic": "count"}]))


def test_other_organizations_cannot_spend_a_grants_budget(home, people, grant_id):
    with refused(home, "grant"), home.store.transaction() as s:
        dp_jobs.submit(s, people.merchant_b, home.policy, home.data, grant_id, spec(),
                       "dp_out")


def test_two_submissions_at_once_cannot_both_spend_the_last_epsilon(home, people, grant_id):
    import threading

    submit(home, people, grant_id, spec(epsilon=1.0), "first")
    outcomes, go = [], threading.Barrier(2)

    def one(name):
        go.wait()
        try:
            submit(home, people, grant_id, spec(epsilon=0.75), name)
            outcomes.append("queued")
        except Exception as exc:  # the refusal is the outcome
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=one, args=(f"racer{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["QueryRefused", "queued"]
    assert budget(home, people, grant_id)["spent"] == 1.75


def test_no_value_can_make_a_dp_statement_fail():
    """Whether a DP job fails must not depend on the data (a failure is a bit outside the
    noise): values beyond any cast's range, NaN and infinities are clamped first, and a filter
    that fails on a row selects nothing there."""
    table = pa.table({"g": ["a", "a", "b", "b"], "v": [1e300, float("nan"), float("-inf"), 5.0],
                      "s": ["1", "x", "2", "y"], "tds__person": ["1", "2", "3", "4"],
                      "tds__row": [0, 1, 2, 3]})
    parsed = dp.parse({"table": "t", "by": [{"column": "g", "keys": ["a", "b"]}],
                       "where": "CAST(s AS INTEGER) > 0", "epsilon": 1.0, "measures": [
                           {"statistic": "sum", "column": "v", "lower": 0, "upper": 10},
                           {"statistic": "quantile", "column": "v", "lower": 0, "upper": 10}]},
                      POLICY)
    rows = exact(parsed, table).to_pylist()
    assert [(r["g"], r["tds__count"], float(r["tds__sum_0"])) for r in rows] == [
        ("a", 1, 10.0), ("b", 1, 0.0)]
