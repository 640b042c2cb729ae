"""Column lineage of a job: which granted input columns each output column is computed from,
read from DuckDB's own parse tree (``json_serialize_sql``) and checked against the columns its
optimized plan reads (:mod:`sandbox.plan`): where the plan reads a column the parse tree did
not see, the trace is not exact and every output counts as derived from all that is read."""

from __future__ import annotations

from typing import Any

from sandbox import plan
from sandbox.gate import check, walk

# (table, column) pairs per output column; "exact" is False when the query's shape (set
# operations, subqueries in FROM, CTEs) made us fall back to every column the query mentions.
Lineage = dict[str, Any]


def _refs(node: Any) -> list[tuple[str | None, str]]:
    found = []
    for item in walk(node):
        if item.get("class") == "COLUMN_REF":
            names = item.get("column_names") or []
            if names:
                found.append((names[-2] if len(names) > 1 else None, names[-1]))
    return found


def _plain_star(entry: dict[str, Any]) -> bool:
    """``*`` or ``t.*`` as written, not COLUMNS(...) nor a star with EXCLUDE/REPLACE/RENAME."""
    return not (entry.get("columns") or entry.get("expr") or entry.get("exclude_list")
                or entry.get("replace_list") or entry.get("rename_list")
                or entry.get("qualified_exclude_list"))


def _join_keys(statement: dict[str, Any], order: list[str], tables: dict[str, list[str]]
               ) -> set[tuple[str, str]]:
    """Columns a join matches on without naming them in an expression: ``USING (...)``, and
    for a NATURAL join every column its tables share."""
    found: set[tuple[str, str]] = set()
    for node in walk(statement):
        if node.get("type") != "JOIN":
            continue
        names = set(node.get("using_columns") or [])
        if node.get("ref_type") == "NATURAL":
            names |= {c for t in order for c in tables[t]
                      if sum(c in tables[u] for u in order) > 1}
        found |= {(t, c) for t in order for c in names if c in tables[t]}
    return found


def column_lineage(sql: str, tables: dict[str, list[str]], outputs: list[str],
                   types: dict[str, dict[str, str]] | None = None) -> Lineage:
    """Map each of ``outputs`` (the job's output columns, in order) to the (table, column)
    inputs it derives from; ``tables`` are the tables the job could read and their columns.
    With ``types`` (table -> column -> Arrow type text) the trace is checked against the
    query's plan; a query DuckDB cannot plan counts as reading every column."""
    traced = _parsed(sql, tables, outputs)
    if types is None:
        return {"exact": traced["exact"], "columns": traced["columns"]}
    read = plan.columns_read(sql, {t: [(c, types.get(t, {}).get(c, "string")) for c in cols]
                                   for t, cols in tables.items()})
    seen = {tuple(p) for pairs in traced["columns"].values() for p in pairs} | \
        {tuple(p) for p in traced["mentioned"]}
    if read is None:
        unknown = {(t, c) for t, cols in tables.items() for c in cols}
    else:
        unknown = {(t, c) for t, cols in read.items() for c in cols} - seen
    if not unknown:
        return {"exact": traced["exact"], "columns": traced["columns"]}
    every = sorted(seen | unknown)
    return {"exact": False, "columns": {name: [list(p) for p in every] for name in outputs}}


def _parsed(sql: str, tables: dict[str, list[str]], outputs: list[str]) -> dict[str, Any]:
    tree = check(sql, max_length=10**7, max_depth=10**4)
    statement = tree["statements"][0]["node"]
    aliases: dict[str, str] = {}
    order: list[str] = []
    simple = statement.get("type") == "SELECT_NODE" and not (statement.get("cte_map") or {}).get(
        "map")
    for node in walk(statement):
        if node.get("type") == "BASE_TABLE" and node.get("table_name") in tables:
            name = node["table_name"]
            aliases[node.get("alias") or name] = name
            aliases[name] = name
            if name not in order:
                order.append(name)

    def resolve(qualifier: str | None, column: str) -> list[tuple[str, str]]:
        if qualifier is not None:
            table = aliases.get(qualifier)
            return [(table, column)] if table and column in tables[table] else []
        found = [(t, column) for t in order if column in tables[t]]
        if not found and column in aliases:  # a table's name alone is its whole row (a STRUCT)
            return [(aliases[column], c) for c in tables[aliases[column]]]
        return found

    # A subquery in FROM or in the select list hides which column feeds which output; one in
    # WHERE or HAVING only filters rows.
    for node in walk([statement.get("from_table"), statement.get("select_list")]):
        if node.get("type") == "SUBQUERY" or node.get("class") == "SUBQUERY":
            simple = False
        if node.get("type") == "TABLE_FUNCTION":
            # range(), unnest()... joined to a table can carry its values (ON r.range = t.id):
            # their columns count as derived from everything the query mentions.
            simple = False
    # Columns named by no reference: COLUMNS('regex'), * EXCLUDE/REPLACE, a star inside a
    # subquery, #n positions. Their outputs may carry any column of the tables read.
    hidden = [n for n in walk(statement) if n.get("class") in ("STAR", "POSITIONAL_REFERENCE")]
    top = [e for e in statement.get("select_list", []) if e.get("class") == "STAR"]
    if len(hidden) != len(top) or not all(_plain_star(e) for e in top):
        simple = False
        mentioned = sorted({(t, c) for t in order for c in tables[t]})
    else:
        starred = {(t, c) for e in top
                   for t in ([aliases.get(e["relation_name"])] if e.get("relation_name")
                             else order) if t for c in tables[t]}
        mentioned = sorted({pair for q, c in _refs(statement) for pair in resolve(q, c)}
                           | _join_keys(statement, order, tables) | starred)
    if simple:
        mapped: list[list[tuple[str, str]]] = []
        for entry in statement.get("select_list", []):
            if entry.get("class") == "STAR":
                relation = entry.get("relation_name") or None
                for table in ([aliases.get(relation)] if relation else order):
                    if table:
                        mapped.extend([[(table, c)] for c in tables[table]])
            else:
                mapped.append(sorted({pair for q, c in _refs(entry) for pair in resolve(q, c)}))
        if len(mapped) == len(outputs):
            return {"exact": True, "mentioned": mentioned,
                    "columns": {name: [list(p) for p in pairs]
                                for name, pairs in zip(outputs, mapped, strict=True)}}
    return {"exact": False, "mentioned": mentioned,
            "columns": {name: [list(p) for p in mentioned] for name in outputs}}
