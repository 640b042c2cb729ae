"""The statement gate: exactly one SELECT, parsed by DuckDB itself, and the tables it reads."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import duckdb

from sandbox.errors import QueryRefused

# Table functions that read files or run SQL given as text; never allowed in a job.
FORBIDDEN_FUNCTIONS = frozenset({
    "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
    "read_json_objects", "read_ndjson", "read_ndjson_auto", "read_ndjson_objects", "read_text",
    "read_blob", "glob", "sniff_csv", "parquet_metadata", "parquet_schema", "parquet_file_metadata",
    "parquet_kv_metadata", "query", "query_table", "iceberg_scan", "delta_scan", "sqlite_scan",
    "postgres_scan", "mysql_scan", "read_xlsx", "duckdb_secrets", "duckdb_settings",
    "duckdb_extensions", "duckdb_databases", "duckdb_temporary_files", "which_secret",
    "getenv", "current_setting", "pragma_database_list", "duckdb_views", "duckdb_tables",
    "duckdb_functions", "duckdb_columns", "duckdb_schemas", "duckdb_dependencies",
    "duckdb_memory", "duckdb_log", "duckdb_logs", "load_extension", "python_map_function",
})


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    # A connection with no data and no file access, used only to parse.
    con = duckdb.connect(":memory:", config={"enable_external_access": False,
                                             "autoload_known_extensions": False,
                                             "autoinstall_known_extensions": False})
    return con


def check(sql: str, max_length: int) -> dict[str, Any]:
    """Refuse anything but one SELECT; return its parse tree (DuckDB's JSON form)."""
    if not isinstance(sql, str) or not sql.strip():
        raise QueryRefused("the job needs one SQL SELECT statement")
    if len(sql) > max_length:
        raise QueryRefused(f"the SQL is longer than the policy's {max_length} characters")
    if "\x00" in sql:
        raise QueryRefused("the SQL contains a NUL character")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(f"the SQL does not parse: {_first_line(exc)}") from exc
    if len(statements) != 1:
        raise QueryRefused(f"a job is exactly one statement; this SQL has {len(statements)}")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise QueryRefused(f"only SELECT is allowed, not {statements[0].type.name}")
    try:
        raw = _parser().execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchone()[0]
    except duckdb.Error as exc:
        raise QueryRefused(f"the SQL cannot be analysed: {_first_line(exc)}") from exc
    tree = json.loads(raw)
    if tree.get("error"):
        raise QueryRefused(f"only a plain SELECT is allowed: {tree.get('error_message', '')}")
    for function in _function_names(tree):
        if function.lower() in FORBIDDEN_FUNCTIONS:
            raise QueryRefused(f"the function {function}() is not available in the sandbox")
    return tree


def tables_read(tree: dict[str, Any]) -> set[str]:
    """Base tables the query reads (CTE names excluded)."""
    tables: set[str] = set()
    ctes: set[str] = set()
    for node in _walk(tree):
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
    for node in _walk(tree):
        if node.get("class") == "FUNCTION" or node.get("type") in ("FUNCTION", "TABLE_FUNCTION"):
            name = node.get("function_name")
            if isinstance(name, str):
                found.add(name)
        function = node.get("function")
        if node.get("type") == "TABLE_FUNCTION" and isinstance(function, dict):
            name = function.get("function_name")
            if isinstance(name, str):
                found.add(name)
    return found


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
