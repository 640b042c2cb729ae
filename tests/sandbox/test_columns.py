"""Column lineage of job SQL, from DuckDB's parse tree."""

from __future__ import annotations

import pytest

from sandbox.columns import column_lineage

TABLES = {"visits": ["district", "fee", "age", "department"], "firms": ["district", "capital"]}


@pytest.mark.parametrize("sql,outputs,expected", [
    ("SELECT v.district AS d, count(*) AS n, sum(fee * 2) AS total FROM visits v GROUP BY 1",
     ["d", "n", "total"],
     {"d": [["visits", "district"]], "n": [], "total": [["visits", "fee"]]}),
    ("SELECT * FROM visits", ["district", "fee", "age", "department"],
     {c: [["visits", c]] for c in TABLES["visits"]}),
    ("SELECT f.capital, v.fee FROM visits v JOIN firms f ON v.district = f.district",
     ["capital", "fee"], {"capital": [["firms", "capital"]], "fee": [["visits", "fee"]]}),
    ("SELECT district FROM visits UNION SELECT district FROM firms", ["district"],
     {"district": [["firms", "district"], ["visits", "district"]]}),
])
def test_each_output_column_traces_to_its_inputs(sql, outputs, expected):
    assert column_lineage(sql, TABLES, outputs)["columns"] == expected


def test_shapes_it_cannot_follow_fall_back_to_every_mentioned_column():
    found = column_lineage("SELECT d FROM (SELECT district AS d, fee FROM visits)", TABLES, ["d"])
    assert not found["exact"]
    assert found["columns"]["d"] == [["visits", "district"], ["visits", "fee"]]


@pytest.mark.parametrize("sql,outputs", [
    ("SELECT COLUMNS('a.*') FROM visits", ["age"]),
    ("SELECT #3 AS x FROM visits", ["x"]),
    ("SELECT * EXCLUDE (fee) FROM visits", ["district", "age", "department"]),
    ("SELECT * FROM (SELECT * FROM visits) s", TABLES["visits"]),
    ("SELECT x FROM (SELECT #3 AS x FROM visits) s", ["x"]),
])
def test_columns_named_by_no_reference_trace_to_every_column_read(sql, outputs):
    # COLUMNS('regex'), #n and stars out of sight would hide a quasi-identifier: each output
    # then traces to every column of the tables read.
    found = column_lineage(sql, TABLES, outputs)
    assert not found["exact"]
    for pairs in found["columns"].values():
        assert ["visits", "age"] in pairs


def test_a_joined_range_carries_the_columns_it_was_matched_with():
    # range() joined on an identifier launders its digits into a column of range's own.
    found = column_lineage("SELECT r.range AS i, count(*) AS n FROM visits "
                           "JOIN range(100) r ON r.range = visits.age GROUP BY 1",
                           TABLES, ["i", "n"])
    assert not found["exact"] and ["visits", "age"] in found["columns"]["i"]
