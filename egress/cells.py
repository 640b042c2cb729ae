"""The cells of a job's output and what disclosure control needs to know of each.

A job's SQL is read through DuckDB's own parse tree. An aggregate query's output is a table of
cells; to check them we build, from the same tree, a *statistics query*: the job's own FROM,
WHERE, GROUP BY and HAVING with its select list followed by, for every aggregate call in it, the
inputs of ACRO's rules computed per group (contributor count, sum, largest value, sum of the two
largest, negatives, missing values, regression size). DuckDB writes it back to SQL
(``json_deserialize_sql``) and the sandbox runs it over the job's own inputs; nothing re-reads
the output in Python.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from catalog.names import quote_identifier
from sandbox.gate import aggregate_names, check, cte_names, parser, walk
from sandbox.spec import PERSON_COLUMN, ROW_COLUMN

# How ACRO's ontology treats each family of statistics (acro.table_utils.AGGFUNC_TO_TYPE and
# statbarns.json): which rules a cell of that statistic must pass.
KINDS: dict[str, str] = {
    **dict.fromkeys(("count", "count_star"), "frequency"),
    **dict.fromkeys(("sum", "avg", "mean", "fsum", "sumkahan", "kahan_sum", "favg",
                     "sum_no_overflow"), "linear"),
    **dict.fromkeys(("median", "quantile_cont", "mad"), "position"),
    # Each returns one contributor's value (quantile is quantile_disc).
    **dict.fromkeys(("min", "max", "quantile", "quantile_disc"), "endpoint"),
    "mode": "mode",
    **dict.fromkeys(("stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop",
                     "kurtosis", "kurtosis_pop", "skewness", "entropy"), "shape"),
    **dict.fromkeys(("regr_slope", "regr_intercept", "regr_r2", "regr_avgx", "regr_avgy",
                     "regr_sxx", "regr_syy", "regr_sxy", "regr_count", "corr", "covar_pop",
                     "covar_samp"), "regression"),
    # These return contributors' own values, not a statistic of them.
    **dict.fromkeys(("list", "array_agg", "string_agg", "group_concat", "listagg", "first",
                     "last", "any_value", "arbitrary", "arg_max", "arg_min", "max_by",
                     "min_by", "argmax", "argmin", "histogram", "list_distinct",
                     "bitstring_agg"), "reveals"),
}
# Parameters of the regression family: residual degrees of freedom are rows - PARAMETERS.
REGRESSION_PARAMETERS = 2
PREFIX = "tds__"


@dataclass
class Aggregate:
    """One aggregate call in the select list, and the statistics columns computed for it."""

    index: int
    function: str
    kind: str  # a KINDS value, or "unknown"
    column: str  # the output column it is part of
    alone: bool  # the output column is exactly this call (so its value is the statistic)
    stats: dict[str, str] = field(default_factory=dict)  # statistic -> column of the query
    values: tuple[str, ...] = ()  # the columns its argument reads (names, sorted)


@dataclass
class Shape:
    """What a job's output is: ``aggregate`` (cells), ``row`` (row-level) or ``unknown``."""

    kind: str
    reason: str = ""  # a finding's code (egress.findings) saying why the kind is row/unknown
    args: dict[str, Any] = field(default_factory=dict)  # the finding's arguments
    keys: list[str] = field(default_factory=list)  # output columns that identify a cell
    aggregates: list[Aggregate] = field(default_factory=list)
    margins: bool = False  # GROUPING SETS / ROLLUP / CUBE: the output holds subtotals
    stats_sql: str | None = None
    # Per contributor and cell, the part of each sum-like aggregate: dominance (NK, p-ratio)
    # is judged on persons' totals, not on rows (see :func:`dominance`).
    dominance_sql: str | None = None
    grouping_column: str | None = None
    rows_column: str | None = None  # rows of the source in each group (no FILTER)

    def columns_of(self, column: str) -> list[Aggregate]:
        return [a for a in self.aggregates if a.column == column]


def _function(node: dict[str, Any]) -> str | None:
    if node.get("class") == "FUNCTION" and isinstance(node.get("function_name"), str):
        return node["function_name"].lower()
    return None


def _aggregate_calls(node: Any) -> list[dict[str, Any]]:
    """Aggregate calls in an expression (not those inside a window or a subquery)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("class") in ("WINDOW", "SUBQUERY"):
            return found
        name = _function(node)
        if name is not None and name in aggregate_names():
            found.append(node)
            return found
        for value in node.values():
            found.extend(_aggregate_calls(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_aggregate_calls(item))
    return found


def _has(node: Any, cls: str) -> bool:
    return any(n.get("class") == cls for n in walk(node))


def _expressions(sql_list: str) -> list[dict[str, Any]]:
    """Parse ``SELECT <sql_list> FROM t`` and return its select-list expressions (fresh
    copies: callers change them)."""
    return json.loads(_serialized(sql_list))["statements"][0]["node"]["select_list"]


@cache
def _serialized(sql_list: str) -> str:
    # The same few templates are parsed for every aggregate call: once is enough.
    return parser().cursor().execute("SELECT json_serialize_sql(?::VARCHAR)",
                                      [f"SELECT {sql_list} FROM t"]).fetchone()[0]


def _substitute(node: Any, replacements: dict[str, dict[str, Any]]) -> Any:
    """Replace column references named like a key of ``replacements`` with a copy of its node."""
    if isinstance(node, dict):
        if node.get("class") == "COLUMN_REF" and node.get("column_names", [None])[-1] \
                in replacements:
            return copy.deepcopy(replacements[node["column_names"][-1]])
        return {k: _substitute(v, replacements) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, replacements) for v in node]
    return node


# Statistics per kind, as SQL over the placeholder arguments a0, a1; each is computed with the
# aggregate call's own FILTER clause, so it counts exactly the rows the call aggregated. ``n``
# counts contributors (see _contributors), ``rows`` and ``present`` rows (with a value).
_STATS: dict[str, dict[str, str]] = {
    "frequency": {"n": "{contributors}"},
    "linear": {"n": "{contributors}", "sum": "sum(a0)", "max": "max(a0)",
               "top2": "list_sum(max(a0, 2))", "topn": "list_sum(max(a0, {nk_n}))",
               "negative": "sum(CASE WHEN a0 < 0 THEN 1 ELSE 0 END)",
               "present": "count(a0)", "rows": "count(*)", "nonzero": "{nonzero}"},
    "position": {"n": "{contributors}", "present": "count(a0)", "rows": "count(*)"},
    "endpoint": {"n": "{contributors}", "present": "count(a0)", "rows": "count(*)"},
    "mode": {"n": "{contributors}", "present": "count(a0)", "rows": "count(*)"},
    "shape": {"n": "{contributors}", "present": "count(a0)", "rows": "count(*)"},
    "regression": {"n": "{contributors}", "regr": "regr_count(a0, a1)"},
    "reveals": {"n": "{contributors}"},
    "unknown": {"n": "{contributors}"},
}


def _arguments(call: dict[str, Any]) -> list[Any]:
    """The argument expressions of an aggregate call."""
    return [a.get("expression", a) if isinstance(a, dict) else a
            for a in call.get("arguments") or call.get("children") or []]


def _tables(source: Any) -> list[tuple[str, str]]:
    """Each base table a FROM clause reads: its name, and the name it goes by there."""
    return [(t.get("table_name") or "", t.get("alias") or t.get("table_name") or "")
            for t in walk(source) if t.get("type") == "BASE_TABLE"]


def _contributors(node: dict[str, Any],
                  persons: set[str] | None) -> tuple[str, str, str | None] | Shape:
    """SQL counting a group's contributors, and the source rows it covers. With ``persons``
    (the tables that carry :data:`~sandbox.engine.PERSON_COLUMN` and ``ROW_COLUMN``): the
    distinct contributors of each table the aggregate reads (the fewest, when it joins
    several), so neither repeated rows of one person nor rows multiplied by a join or
    ``range()`` count twice; and the distinct source rows (or row pairs of a join), which add
    up over a partition for the differencing check (with the expression naming a source row).
    Without, its rows both. A :class:`Shape` of kind ``unknown`` when they cannot be counted."""
    if persons is None:
        return "count(*)", "count(*)", None
    source = node.get("from_table")
    if any(n.get("type") == "SUBQUERY" for n in walk(source)):
        return Shape("unknown", "shape.subquery_source")
    ctes = set(cte_names(node))
    counts, rows = [], []
    for name, alias in _tables(source):
        if name.lower() in ctes or name not in persons:
            return Shape("unknown", "shape.derived_source", {"name": repr(name)})
        counts.append(f"count(DISTINCT {quote_identifier(alias)}.{PERSON_COLUMN})")
        rows.append(f"{quote_identifier(alias)}.{ROW_COLUMN}")
    if not counts:
        return "count(*)", "count(*)", None  # FROM range(...) alone: no data, no contributor
    row = rows[0] if len(rows) == 1 else f"({', '.join(rows)})"
    least = counts[0] if len(counts) == 1 else f"least({', '.join(counts)})"
    return least, f"count(DISTINCT {row})", row


def _with_filter(expression: dict[str, Any], condition: Any) -> dict[str, Any]:
    """``expression`` with the aggregate call's FILTER on each aggregate inside it (a
    statistic such as ``list_sum(max(a0, 2))`` has its aggregate below a scalar function)."""
    for item in walk(expression):
        if (_function(item) or "") in aggregate_names():
            item["filter"] = copy.deepcopy(condition)
    return expression


def analyse(sql: str, outputs: list[str], nk_n: int = 2,
            persons: set[str] | None = None) -> Shape:
    """The shape of a job's output (whose columns are ``outputs``, in order) and, for an
    aggregate, its statistics query (see :func:`_contributors` for ``persons``)."""
    tree = check(sql, max_length=10**7, max_depth=10**4)
    node = tree["statements"][0]["node"]
    original = copy.deepcopy(tree) if persons is not None else None  # for _dominance_sql
    if node.get("type") != "SELECT_NODE":
        return Shape("unknown", "shape.set_operation")
    select_list = node.get("select_list", [])
    calls_per_entry = [_aggregate_calls(entry) for entry in select_list]
    grouped = bool(node.get("group_expressions")) or \
        node.get("aggregate_handling") == "FORCE_AGGREGATES"
    if not any(calls_per_entry) and not grouped:
        return Shape("row", "shape.row")
    if any(entry.get("class") == "STAR" for entry in select_list):
        return Shape("unknown", "shape.star")
    if any(_has(entry, "WINDOW") for entry in select_list) or node.get("qualify"):
        # max(any_value(x)) OVER (PARTITION BY key) or sum(count(*)) OVER (...) turn each
        # cell into another's value: the rules would judge cells that are not released.
        return Shape("unknown", "shape.window")
    if any(_has(entry, "SUBQUERY") for entry in select_list):
        return Shape("unknown", "shape.subquery_select")
    if len(outputs) != len(select_list):
        return Shape("unknown", "shape.columns_mismatch")
    counted = _contributors(node, persons)
    if isinstance(counted, Shape):
        return counted
    contributors, covered, row = counted
    # Source rows whose value moves a sum: two sums over the same cells whose rows differ by
    # a few (sum(x) and sum(CASE WHEN id <> 'X' THEN x ELSE 0 END)) isolate those rows.
    nonzero = (f"count(DISTINCT CASE WHEN a0 <> 0 THEN {row} END)" if row is not None
               else "count(CASE WHEN a0 <> 0 THEN 1 END)")
    names = list(outputs)
    shape = Shape("aggregate", margins=len(node.get("group_sets") or []) > 1)
    extra: list[dict[str, Any]] = []
    counter = 0
    for column, entry, calls in zip(names, select_list, calls_per_entry, strict=True):
        if not calls:
            shape.keys.append(column)
            continue
        for call in calls:
            function = _function(call) or "?"
            kind = KINDS.get(function, "unknown")
            aggregate = Aggregate(counter, function, kind, column, alone=call is entry)
            counter += 1
            arguments = _arguments(call)
            aggregate.values = tuple(sorted({
                n["column_names"][-1] for n in walk(arguments[:1])
                if n.get("class") == "COLUMN_REF" and n.get("column_names")}))
            templates = _STATS[kind]
            if kind == "regression" and len(arguments) < 2:
                templates = _STATS["unknown"]
            if kind in ("linear", "position", "endpoint", "mode", "shape") and not arguments:
                templates = _STATS["unknown"]
            parsed = _expressions(", ".join(templates.values()).format(
                nk_n=int(nk_n), contributors=contributors, nonzero=nonzero))
            for stat, expression in zip(templates, parsed, strict=True):
                expression = _substitute(expression, {f"a{i}": arg for i, arg in
                                                      enumerate(arguments[:2])})
                expression = _with_filter(expression, call.get("filter"))
                expression["alias"] = f"{PREFIX}{aggregate.index}_{stat}"
                aggregate.stats[stat] = expression["alias"]
                extra.append(expression)
            shape.aggregates.append(aggregate)
    if shape.margins:
        grouping = _expressions("GROUPING(" + ", ".join(
            f"k{i}" for i in range(len(node["group_expressions"]))) + ")")[0]
        grouping = _substitute(grouping, {f"k{i}": g for i, g in
                                          enumerate(node["group_expressions"])})
        grouping["alias"] = shape.grouping_column = f"{PREFIX}grouping"
        extra.append(grouping)
    rows = _expressions(covered)[0]
    rows["alias"] = shape.rows_column = f"{PREFIX}rows"
    extra.append(rows)
    node["select_list"] = [dict(entry, alias=name) for entry, name
                           in zip(select_list, names, strict=True)] + extra
    shape.stats_sql = _sql(tree)
    linear = [(a, call) for a, call in zip(shape.aggregates,
                                           [c for calls in calls_per_entry for c in calls],
                                           strict=True) if "topn" in a.stats]
    if original is not None and linear:
        shape.dominance_sql = _dominance_sql(original, names, linear, shape.margins)
    return shape


def _sql(tree: dict[str, Any]) -> str:
    return parser().cursor().execute("SELECT json_deserialize_sql(?::JSON)",
                                      [json.dumps(tree)]).fetchone()[0]


def _dominance_sql(tree: dict[str, Any], names: list[str],
                   linear: list[tuple[Aggregate, dict[str, Any]]], margins: bool) -> str | None:
    """The job's aggregate grouped by each source table's contributor too: per cell and
    person, the part of each sum-like aggregate (``tds__<i>_part``), with the source's number
    (``tds__source``); None when no table carries contributors. The select list keeps the
    job's own entries first, so GROUP BY positions and GROUP BY ALL still mean what they
    meant; HAVING, ORDER BY and LIMIT go (every cell is judged)."""
    node = tree["statements"][0]["node"]
    parts = []
    for source, (_, alias) in enumerate(_tables(node.get("from_table"))):
        part = copy.deepcopy(tree)
        n = part["statements"][0]["node"]
        entries = [dict(e, alias=name) for e, name in zip(n["select_list"], names, strict=True)]
        if margins:
            grouping = _substitute(_expressions("GROUPING(" + ", ".join(
                f"k{i}" for i in range(len(n["group_expressions"]))) + ")")[0],
                {f"k{i}": g for i, g in enumerate(n["group_expressions"])})
            entries.append(dict(grouping, alias=f"{PREFIX}grouping"))
        person = _expressions(f"{quote_identifier(alias)}.{PERSON_COLUMN}, {source}")
        entries += [dict(person[0], alias=f"{PREFIX}person"),
                    dict(person[1], alias=f"{PREFIX}source")]
        for aggregate, call in linear:
            expression = _substitute(_expressions("sum(a0)")[0], {"a0": _arguments(call)[0]})
            expression = _with_filter(expression, call.get("filter"))
            entries.append(dict(expression, alias=f"{PREFIX}{aggregate.index}_part"))
        n["select_list"] = entries
        n["having"] = None
        n["modifiers"] = []
        if n.get("group_expressions"):
            n["group_expressions"].append(copy.deepcopy(person[0]))
            last = len(n["group_expressions"]) - 1
            n["group_sets"] = [sorted(set(g) | {last}) for g in n["group_sets"] or [[]]]
        parts.append(_sql(part))
    return " UNION ALL ".join(f"({p})" for p in parts) if parts else None


def dominance(shape: Shape, stats: pa.Table, parts: pa.Table, nk_n: int) -> pa.Table:
    """``stats`` with each sum-like aggregate's largest, two largest and ``nk_n`` largest
    contributions taken over persons' totals per cell (``parts``: the result of
    :attr:`Shape.dominance_sql`), the largest over the source tables: a person's many small
    rows are one large contribution. Cells are matched by their keys (and grouping)."""
    con = duckdb.connect()
    keys = [*shape.keys, *([shape.grouping_column] if shape.grouping_column else [])]
    quoted = [quote_identifier(k) for k in keys]
    linear = [a for a in shape.aggregates if "topn" in a.stats]
    per_source = ", ".join(
        f"max({PREFIX}{a.index}_part) AS m{a.index}, "
        f"list_sum(max({PREFIX}{a.index}_part, 2)) AS t{a.index}, "
        f"list_sum(max({PREFIX}{a.index}_part, {int(nk_n)})) AS n{a.index}" for a in linear)
    across = ", ".join(f"max(m{a.index}) AS m{a.index}, max(t{a.index}) AS t{a.index}, "
                       f"max(n{a.index}) AS n{a.index}" for a in linear)
    group = ", ".join([*quoted, f"{PREFIX}source"])
    con.register("parts", parts)
    con.register("stats", stats.append_column(f"{PREFIX}i", pa.array(range(stats.num_rows))))
    on = " AND ".join(f"s.{k} IS NOT DISTINCT FROM d.{k}" for k in quoted) or "TRUE"
    found = con.sql(f"""
        WITH by_source AS (SELECT {group}, {per_source} FROM parts GROUP BY {group}),
             d AS (SELECT {', '.join(quoted) or "1 AS one"}, {across} FROM by_source
                   {'GROUP BY ' + ', '.join(quoted) if quoted else ''})
        SELECT s.{PREFIX}i, {', '.join(f'd.m{a.index}, d.t{a.index}, d.n{a.index}'
                                       for a in linear)}
        FROM stats s LEFT JOIN d ON {on} ORDER BY s.{PREFIX}i""").to_arrow_table()
    out = stats
    for a in linear:
        for stat, column in (("max", f"m{a.index}"), ("top2", f"t{a.index}"),
                             ("topn", f"n{a.index}")):
            name = a.stats[stat]
            old = out.column(name)
            new = found.column(column)
            # a cell the persons' run did not see keeps its rows' figure (never expected)
            merged = pa.chunked_array([pc.coalesce(
                new.combine_chunks().cast(pa.float64()), old.combine_chunks().cast(pa.float64()))])
            out = out.set_column(out.column_names.index(name), name, merged)
    return out
