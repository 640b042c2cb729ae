"""Which columns of which tables a query reads, from DuckDB's own optimized plan.

The query is planned, never run, over empty tables of the same names, columns and types
(``EXPLAIN (FORMAT JSON)``); every scan in the plan names its table, the columns it projects
and the filters it pushed down. :mod:`sandbox.columns` traces columns through the parse tree;
this is the binder's answer to check it against: a column the plan reads and the parse tree
did not see (``SELECT to_json(v) FROM visits v`` reads every column of ``visits``) means the
trace cannot be trusted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa

from catalog.names import quote_identifier
from sandbox import functions

# On empty tables these would prove scans empty and drop them: the plan must show every read.
_DISABLED = "empty_result_pullup,statistics_propagation,row_group_pruner"
_DECIMAL = re.compile(r"decimal(?:128|256)?\((\d+),\s*(-?\d+)\)")
_TIMESTAMP = re.compile(r"timestamp\[(\w+)(?:,\s*tz=([^\]]+))?\]")


def arrow_type(text: str) -> pa.DataType:
    """An Arrow type from its text (as schemas are stored); text for what is not known."""
    try:
        return pa.type_for_alias(text)
    except ValueError:
        pass
    if found := _DECIMAL.fullmatch(text):
        return pa.decimal128(min(int(found[1]), 38), int(found[2]))
    if found := _TIMESTAMP.fullmatch(text):
        return pa.timestamp(found[1], found[2])
    return pa.string()


def columns_read(sql: str, tables: dict[str, list[tuple[str, str]]]
                 ) -> dict[str, set[str]] | None:
    """Table -> the columns the plan of ``sql`` (a gated SELECT) reads; None when DuckDB cannot
    plan it over ``tables`` (name -> [(column, Arrow type text)])."""
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False})
    try:
        functions.register(con, lambda: b"\0" * 32)
        for name, columns in tables.items():
            empty = pa.schema([(c, arrow_type(t)) for c, t in columns]).empty_table()
            con.register("tds__empty", empty)
            con.execute(f"CREATE TABLE {quote_identifier(name)} AS SELECT * FROM tds__empty")
            con.unregister("tds__empty")
        con.execute(f"SET disabled_optimizers = '{_DISABLED}'")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        rows = con.execute("EXPLAIN (FORMAT JSON) " + sql).fetchall()
    except (duckdb.Error, pa.ArrowException):
        return None
    finally:
        con.close()
    known = {name: [c for c, _ in columns] for name, columns in tables.items()}
    read: dict[str, set[str]] = {}
    for _, text in rows:
        for node in _nodes(json.loads(text)):
            info = node.get("extra_info") or {}
            table = str(info.get("Table", "")).rsplit(".", 1)[-1]
            if not table:
                continue
            if table not in known:  # a table the plan reads that we did not create
                return None
            projected = info.get("Projections") or []
            projected = [projected] if isinstance(projected, str) else projected
            filters = info.get("Filters") or ""
            filters = " ".join(filters) if isinstance(filters, list) else str(filters)
            found = read.setdefault(table, set())
            for column in known[table]:
                if column in projected or re.search(
                        rf"(?<![\w\"]){re.escape(column)}(?![\w\"])|\"{re.escape(column)}\"",
                        filters):
                    found.add(column)
    return read


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    if isinstance(tree, list):
        for item in tree:
            yield from _nodes(item)
    elif isinstance(tree, dict):
        yield tree
        yield from _nodes(tree.get("children") or [])
