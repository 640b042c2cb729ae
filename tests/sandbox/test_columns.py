"""Column lineage of job SQL, from DuckDB's parse tree checked against its plan."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.columns import _parsed, column_lineage

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


TYPES = {"visits": {"district": "string", "fee": "double", "age": "int64",
                    "department": "string"},
         "firms": {"district": "string", "capital": "decimal128(18, 2)"}}


@pytest.mark.parametrize("sql", [
    "SELECT to_json(v) AS j FROM visits v",  # a table's alias alone is its whole row
    "SELECT visits AS j FROM visits",
    "SELECT struct_extract(v, 'age') AS j FROM visits v",
])
def test_a_whole_row_reference_traces_to_every_column(sql):
    for types in (None, TYPES):
        found = column_lineage(sql, TABLES, ["j"], types)
        assert sorted(c for _, c in found["columns"]["j"]) == sorted(TABLES["visits"]), types


def test_the_plan_overrules_a_parse_tree_that_missed_a_read(monkeypatch):
    """Where DuckDB's plan reads a column the parse-tree trace did not see, the trace is not
    exact and every output counts as derived from it: whatever the parse tree gets wrong,
    the binder's answer wins."""
    from sandbox import columns

    real = columns._parsed

    def blind(sql, tables, outputs):  # a parse-tree trace that missed the age column
        traced = real(sql, tables, outputs)
        traced["columns"] = {k: [p for p in v if p[1] != "age"] for k, v in traced["columns"].items()}
        traced["mentioned"] = [p for p in traced["mentioned"] if p[1] != "age"]
        return traced

    monkeypatch.setattr(columns, "_parsed", blind)
    sql = "SELECT district, max(age) AS oldest FROM visits GROUP BY 1"
    assert column_lineage(sql, TABLES, ["district", "oldest"])["exact"]
    found = column_lineage(sql, TABLES, ["district", "oldest"], TYPES)
    assert not found["exact"]
    assert all(["visits", "age"] in pairs for pairs in found["columns"].values())


def test_a_query_duckdb_cannot_plan_traces_to_every_column():
    # the types given do not fit the query (sum of text): nothing can be trusted
    found = column_lineage("SELECT sum(district) AS s FROM visits", TABLES, ["s"],
                           {"visits": {c: "date32[day]" for c in TABLES["visits"]}})
    assert not found["exact"] and len(found["columns"]["s"]) == len(TABLES["visits"]) + 2


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_trace_covers_every_column_the_plan_reads(data):
    from sandbox.plan import columns_read

    picks = st.sampled_from(["district", "fee", "age", "department", "v.fee", "v.age", "*",
                             "v", "to_json(v)", "count(*)", "sum(fee)", "max(age)",
                             "COLUMNS('d.*')", "#2", "f.capital", "upper(department)"])
    chosen = data.draw(st.lists(picks, min_size=1, max_size=4))
    shape = data.draw(st.sampled_from([
        "SELECT {c} FROM visits v", "SELECT {c} FROM visits v WHERE age > 3",
        "SELECT {c} FROM visits v JOIN firms f USING (district)",
        "WITH w AS (SELECT * FROM visits) SELECT {c} FROM w v",
        "SELECT {c} FROM (SELECT * FROM visits) v",
    ]))
    sql = shape.format(c=", ".join(f"{e} AS c{i}" if e != "*" else e
                                   for i, e in enumerate(chosen)))
    read = columns_read(sql, {t: [(c, TYPES[t][c]) for c in TABLES[t]] for t in TABLES})
    if read is None:
        return  # DuckDB refuses this query: no job runs it
    # The parse tree alone sees every column the plan reads (in an output or a filter): over
    # these shapes it has no holes for the plan to find.
    parsed = _parsed(sql, TABLES, [f"c{i}" for i in range(len(chosen))])
    seen = {tuple(p) for pairs in parsed["columns"].values() for p in pairs} | \
        {tuple(p) for p in parsed["mentioned"]}
    assert {(t, c) for t, cols in read.items() for c in cols} <= seen, sql
