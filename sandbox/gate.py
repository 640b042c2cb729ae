"""The statement gate: exactly one SELECT, parsed by DuckDB itself, and the tables it reads."""

from __future__ import annotations

import hashlib
import json
import threading
from functools import cache
from typing import Any

import duckdb

from sandbox.errors import QueryRefused

# Table functions a job may call: they compute from values and touch nothing else. Every other
# table function (file readers, query()/query_table(), catalog and settings listings) is refused.
ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest", "json_each", "json_tree"})

# Scalar functions that reveal the process's settings or environment, or only waste time.
FORBIDDEN_FUNCTIONS = frozenset({
    "getenv", "current_setting", "sleep_ms", "pg_sleep", "write_log", "json_serialize_plan",
    "json_deserialize_sql", "json_serialize_sql", "txid_current", "nextval", "currval",
    "parse_duckdb_log_message", "current_query", "load_extension", "python_map_function",
})


# What makes a result differ from one run to the next. A real-data job refuses them: the
# egress checks compute their statistics in a second run over the same inputs, which must
# reproduce the released file (a clock or a random draw would also let one file hide from
# the checks what the other shows).
NONDETERMINISTIC_FUNCTIONS = frozenset({
    "random", "setseed", "uuid", "gen_random_uuid", "uuidv4", "uuidv7", "now", "today",
    "get_current_time", "get_current_timestamp", "current_localtime",
    "current_localtimestamp", "transaction_timestamp", "statement_timestamp",
})
# Keywords DuckDB's parser leaves as column references, bound to the clock later.
CLOCK_KEYWORDS = frozenset({"current_timestamp", "current_date", "current_time",
                            "localtimestamp", "localtime"})

_local = threading.local()


def parser() -> duckdb.DuckDBPyConnection:
    """This thread's connection with no data and no file access, used only to parse. One per
    thread: a DuckDB connection used by two threads at once mixes up their results, which the
    API's concurrent submissions did."""
    con = getattr(_local, "parser", None)
    if con is None:
        con = _local.parser = duckdb.connect(":memory:", config={
            "enable_external_access": False, "autoload_known_extensions": False,
            "autoinstall_known_extensions": False})
    return con


def check(sql: str, max_length: int, max_depth: int = 200) -> dict[str, Any]:
    """Refuse anything but one SELECT; return its parse tree (DuckDB's JSON form)."""
    if not isinstance(sql, str) or not sql.strip():
        raise QueryRefused("the job needs one SQL SELECT statement")
    if len(sql) > max_length:
        raise QueryRefused("the SQL is longer than the policy's {max_length} characters",
                           max_length=max_length)
    if "\x00" in sql:
        raise QueryRefused("the SQL contains a NUL character")
    depth = nesting_depth(sql)
    if depth > max_depth:
        raise QueryRefused("the SQL nests parentheses {depth} deep; the policy allows {max_depth}",
                           depth=depth, max_depth=max_depth)
    try:
        statements = parser().extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused("the SQL does not parse: {first_line}", first_line=_first_line(exc)) from exc
    if len(statements) != 1:
        raise QueryRefused("a job is exactly one statement; this SQL has {n_statements}",
                           n_statements=len(statements))
    if statements[0].type != duckdb.StatementType.SELECT:
        raise QueryRefused("only SELECT is allowed, not {name}", name=statements[0].type.name)
    try:
        raw = parser().execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchone()[0]
    except duckdb.Error as exc:
        raise QueryRefused("the SQL cannot be analysed: {first_line}", first_line=_first_line(exc)) from exc
    tree = json.loads(raw)
    if tree.get("error"):
        raise QueryRefused("only a plain SELECT is allowed: {reason}",
                             reason=tree.get("error_message", ""))
    for function in _table_functions(tree):
        if function.lower() not in ALLOWED_TABLE_FUNCTIONS:
            raise QueryRefused("the table function {function}() is not available in the sandbox",
                               function=function)
    for function in _function_names(tree):
        if function.lower() in FORBIDDEN_FUNCTIONS:
            raise QueryRefused("the function {function}() is not available in the sandbox",
                               function=function)
    for node in walk(tree):
        if node.get("type") == "BASE_TABLE" and (node.get("schema_name") or node.get("catalog_name")):
            qualified = ".".join(p for p in (node.get("catalog_name"), node.get("schema_name"),
                                             node.get("table_name")) if p)
            raise QueryRefused("no table {qualified!r} in this workspace: name workspace tables "
                               "without a schema or catalog",
                               qualified=qualified)
    return tree


def authorize(sql: str, visible: set[str], settings: dict[str, Any],
              target: str = "simulated") -> dict[str, Any]:
    """:func:`check` under the policy's limits, and every table read is one of ``visible``;
    a ``real`` job must also be deterministic."""
    tree = check(sql, int(settings["max_sql_length"]), int(settings["max_expression_depth"]))
    if target == "real":
        deterministic(tree)
    ctes = cte_names(tree)
    taken = sorted((set(ctes) & {v.lower() for v in visible}) | (set(ctes) & system_names())
                   | {c for c in ctes if ctes.count(c) > 1})
    if taken:
        # A CTE named like a table would hide the table from the recorded sources wherever the
        # name is used outside the CTE's scope (and let a system view be read through it).
        raise QueryRefused("the CTE name {taken!r} is taken (a workspace or system table, or another "
                           "CTE of the query): give the CTE a name of its own",
                           taken=taken[0])
    unknown = sorted(tables_read(tree) - visible)
    if unknown:
        raise QueryRefused("no table {unknown!r} in this workspace (tables: {tables})",
                           unknown=unknown[0], tables=", ".join(sorted(visible)) or "none")
    return tree


def deterministic(tree: dict[str, Any]) -> None:
    """Refuse what makes a query's result differ between two runs over the same data."""
    for function in sorted(_function_names(tree)):
        if function.lower() in NONDETERMINISTIC_FUNCTIONS:
            raise QueryRefused("{function}() gives another result at every run: a job on real data "
                               "must be deterministic (the egress checks run it again)",
                               function=function)
    for node in walk(tree):
        if node.get("class") == "COLUMN_REF" and len(node.get("column_names") or []) == 1 \
                and str(node["column_names"][0]).lower() in CLOCK_KEYWORDS:
            raise QueryRefused("{node} reads the clock: a job on real data must be deterministic (the "
                               "egress checks run it again)",
                               node=node['column_names'][0])
        if node.get("sample"):
            raise QueryRefused("sampling (USING SAMPLE, TABLESAMPLE) draws other rows at every "
                               "run: a job on real data must be deterministic")


def nesting_depth(sql: str) -> int:
    """Deepest nesting of parentheses outside string literals, quoted names and comments."""
    depth = deepest = 0
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            end = sql.find(ch, i + 1)
            while end != -1 and sql[end + 1:end + 2] == ch:  # doubled quote inside the literal
                end = sql.find(ch, end + 2)
            i = n if end == -1 else end + 1
            continue
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end == -1 else end + 1
            continue
        if sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end == -1 else end + 2
            continue
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
        i += 1
    return deepest


def cte_names(tree: dict[str, Any]) -> list[str]:
    """Every CTE name the statement defines, at any depth, as often as it is defined."""
    found = []
    for node in walk(tree):
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            found.extend(entry["key"].lower() if isinstance(entry.get("key"), str) else "?"
                         for entry in cte_map.get("map", []) if isinstance(entry, dict))
    return found


def system_names() -> set[str]:
    """Names of the tables and views DuckDB itself provides (duckdb_*, pg_catalog,
    information_schema...), lower case."""
    names = getattr(_local, "system_names", None)
    if names is None:
        rows = parser().execute(
            "SELECT lower(view_name) FROM duckdb_views() UNION "
            "SELECT lower(table_name) FROM duckdb_tables() UNION "
            "SELECT lower(function_name) FROM duckdb_functions() "
            "WHERE function_type = 'table'").fetchall()
        names = _local.system_names = {r[0] for r in rows}
    return names


@cache
def aggregate_names() -> frozenset[str]:
    """Every aggregate function DuckDB knows (lower case)."""
    rows = parser().cursor().execute(
        "SELECT DISTINCT lower(function_name) FROM duckdb_functions() "
        "WHERE function_type = 'aggregate'").fetchall()
    return frozenset(r[0] for r in rows)


def function_names(tree: Any) -> set[str]:
    """Every scalar or aggregate function ``tree`` calls (lower case)."""
    return _function_names(tree)


def tables_read(tree: dict[str, Any]) -> set[str]:
    """Base tables the query reads (CTE names excluded)."""
    tables: set[str] = set()
    ctes: set[str] = set()
    for node in walk(tree):
        if node.get("type") == "BASE_TABLE" and node.get("table_name"):
            tables.add(node["table_name"])
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            for entry in cte_map.get("map", []):
                if isinstance(entry, dict) and entry.get("key"):
                    ctes.add(entry["key"])
    return {t for t in tables if t not in ctes}


def _function_names(tree: dict[str, Any]) -> set[str]:
    found = set()
    for node in walk(tree):
        if node.get("class") == "FUNCTION" or node.get("type") in ("FUNCTION", "TABLE_FUNCTION"):
            name = node.get("function_name")
            if isinstance(name, str):
                found.add(name)
    return found | _table_functions(tree)


def _table_functions(tree: dict[str, Any]) -> set[str]:
    found = set()
    for node in walk(tree):
        function = node.get("function")
        if node.get("type") == "TABLE_FUNCTION":
            name = function.get("function_name") if isinstance(function, dict) else None
            # A table function the parser cannot name is refused like an unknown one.
            found.add(name if isinstance(name, str) else "?")
    return found


def walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


_POSITIONS = ("query_location", "query_location_length", "alias")


def shape(tree: dict[str, Any]) -> str:
    """A digest of the statement with its literals, aliases and positions left out: jobs that
    differ only in the constants they compare with (``WHERE v < 41``, ``< 42``...) share it."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("class") == "CONSTANT":
                return {"class": "CONSTANT"}
            return {k: strip(v) for k, v in node.items() if k not in _POSITIONS}
        if isinstance(node, list):
            return [strip(item) for item in node]
        return node

    text = json.dumps(strip(tree), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
