"""Disclosure control: per-cell verdicts equal ACRO 1.0.2's on 14 tables (pinned by
acro_oracle.py), and the statistics come from the job's own SQL through DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from egress import cells, disclosure
from policies import load_policy
from tests.egress import sdc_tables

PINNED = json.loads(Path(__file__).with_name("acro_verdicts.json").read_text(encoding="utf-8"))


def rules(**changes):
    return {**load_policy().egress_disclosure, **changes}


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    connection.register("source", pa.table(sdc_tables.rows()))
    connection.execute("CREATE TABLE visits AS SELECT * FROM source")
    return connection


def ours(con, sql, outputs, **changes):
    shape = cells.analyse(sql, outputs)
    stats = con.sql(shape.stats_sql).to_arrow_table()
    return shape, stats, disclosure.assess(shape, stats, rules(**changes))


def acro_names(rule_names):
    names = set()
    for rule in set(rule_names) - disclosure.BEYOND_ACRO:
        # ACRO marks a cell with negatives under both dominance checks (sent to review)
        names |= {"NKCheck", "PPercentCheck"} if rule == "negative" else \
            {disclosure.ACRO_NAMES[rule]}
    return sorted(names)


@pytest.mark.parametrize("spec", sdc_tables.TABLES, ids=[t[0] for t in sdc_tables.TABLES])
def test_per_cell_verdicts_equal_acros(con, spec):
    name, index, columns = spec[:3]
    pinned = PINNED["tables"][name]
    settings = PINNED["settings"]
    shape, stats, result = ours(con, sdc_tables.sql("visits", spec), [index, columns, "value"],
                                min_cell_count=settings["safe_threshold"],
                                nk_k=settings["safe_nk_k"], p_ratio=settings["safe_pratio_p"],
                                check_missing_values=spec[3] is not None)
    assert shape.kind == "aggregate" and shape.keys == [index, columns]
    seen = set()
    keys = zip(stats.column(index).to_pylist(), stats.column(columns).to_pylist(), strict=True)
    for row, (a, b) in enumerate(keys):
        cell = f"{a}|{b}"
        seen.add(cell)
        assert acro_names(result.cell_rules(row, "value")) == pinned["cells"][cell], cell
    # Cells our GROUP BY does not produce are empty crosstab cells, which ACRO flags too.
    for cell, checks in pinned["cells"].items():
        if cell not in seen:
            assert "MinimumThresholdCheck" in checks, cell
    assert len(seen) >= 8
    # Beyond ACRO, a minimum or maximum is one contributor's value: every such cell fails.
    unsafe = result.marks.pop("unsafe_statistic", None)
    assert (unsafe is not None) == (spec[4] in ("max", "min"))
    if unsafe is not None:
        assert all(mask.all() for mask in unsafe.values())
    assert result.verdict() == {"pass": "pass", "fail": "fail", "review": "review"}[
        pinned["status"]]


def test_the_parity_tables_cover_every_rule():
    found = {c for t in PINNED["tables"].values() for checks in t["cells"].values()
             for c in checks}
    assert {"MinimumThresholdCheck", "PresenceOfZeroCheck", "NKCheck", "PPercentCheck",
            "MissingCheck"} <= found
    assert len(PINNED["tables"]) >= 10


def test_degrees_of_freedom_of_spread_and_regression(con):
    sql = ("SELECT ward, stddev(fee) AS sd, regr_slope(fee, balance) AS slope, "
           "corr(fee, income) AS r FROM visits WHERE district = '从化' GROUP BY ward")
    shape, stats, result = ours(con, sql, ["ward", "sd", "slope", "r"])
    n = stats.column(shape.columns_of("sd")[0].stats["n"]).to_pylist()
    for row, count in enumerate(n):
        assert ("dof" in result.cell_rules(row, "sd")) == (count - 1 < 10)
        assert ("dof" in result.cell_rules(row, "slope")) == (count - 2 < 10)
    assert min(n) < 10 and result.verdict() == "fail"  # a ward of 从化 has a handful of rows


def test_a_statistic_that_returns_values_always_fails(con):
    _, _, result = ours(con, "SELECT dept, list(fee) AS fees, max_by(district, fee) AS top "
                        "FROM visits GROUP BY dept", ["dept", "fees", "top"])
    assert result.counts()["individual_values"] == 10  # 5 departments x 2 columns
    assert result.verdict() == "fail"


def test_distinct_counts_are_held_to_the_threshold(con):
    _, stats, result = ours(con, "SELECT dept, count(DISTINCT ward) AS wards FROM visits "
                            "GROUP BY dept", ["dept", "wards"])
    assert result.counts()["threshold"] == stats.num_rows  # at most 7 wards per department


def test_filters_and_expressions_keep_their_own_contributors(con):
    sql = ("SELECT district, count(*) FILTER (WHERE fee > 1000) AS rich, "
           "round(sum(fee) / count(*), 1) AS mean_fee FROM visits WHERE band <> '65+' "
           "GROUP BY district HAVING count(*) >= 10 ORDER BY district")
    shape, stats, result = ours(con, sql, ["district", "rich", "mean_fee"])
    rich = con.sql("SELECT district, count(*) FILTER (WHERE fee > 1000) FROM visits "
                   "WHERE band <> '65+' GROUP BY 1 HAVING count(*) >= 10").fetchall()
    assert stats.num_rows == len(rich)
    for row, district in enumerate(stats.column("district").to_pylist()):
        assert ("threshold" in result.cell_rules(row, "rich")) == (dict(rich)[district] < 10)
    assert {a.kind for a in shape.columns_of("mean_fee")} == {"linear", "frequency"}


def test_shapes_of_queries():
    assert cells.analyse("SELECT * FROM t", ["a"]).kind == "row"
    assert cells.analyse("SELECT a FROM t UNION SELECT a FROM u", ["a"]).kind == "unknown"
    rollup = cells.analyse("SELECT a, b, count(*) AS n FROM t GROUP BY ROLLUP (a, b)",
                           ["a", "b", "n"])
    assert rollup.margins and rollup.grouping_column
    assert cells.analyse("SELECT count(*) AS n FROM t", ["n"]).keys == []
