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
