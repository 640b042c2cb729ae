"""Column lineage of a job: which granted input columns each output column is computed from,
read from DuckDB's own parse tree (``json_serialize_sql``)."""

from __future__ import annotations

from typing import Any

from sandbox.gate import _walk, check

# (table, column) pairs per output column; "exact" is False when the query's shape (set
# operations, subqueries in FROM, CTEs) made us fall back to every column the query mentions.
Lineage = dict[str, Any]


def _refs(node: Any) -> list[tuple[str | None, str]]:
    found = []
    for item in _walk(node):
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


def column_lineage(sql: str, tables: dict[str, list[str]], outputs: list[str]) -> Lineage:
    """Map each of ``outputs`` (the job's output columns, in order) to the (table, column)
    inputs it derives from; ``tables`` are the tables the job could read and their columns."""
    tree = check(sql, max_length=10**7, max_depth=10**4)
    statement = tree["statements"][0]["node"]
    aliases: dict[str, str] = {}
    order: list[str] = []
    simple = statement.get("type") == "SELECT_NODE" and not (statement.get("cte_map") or {}).get(
        "map")
    for node in _walk(statement):
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
        return [(t, column) for t in order if column in tables[t]]

    # A subquery in FROM or in the select list hides which column feeds which output; one in
    # WHERE or HAVING only filters rows.
    for node in _walk([statement.get("from_table"), statement.get("select_list")]):
        if node.get("type") == "SUBQUERY" or node.get("class") == "SUBQUERY":
            simple = False
        if node.get("type") == "TABLE_FUNCTION":
            # range(), unnest()... joined to a table can carry its values (ON r.range = t.id):
            # their columns count as derived from everything the query mentions.
            simple = False
    # Columns named by no reference: COLUMNS('regex'), * EXCLUDE/REPLACE, a star inside a
    # subquery, #n positions. Their outputs may carry any column of the tables read.
    hidden = [n for n in _walk(statement) if n.get("class") in ("STAR", "POSITIONAL_REFERENCE")]
    top = [e for e in statement.get("select_list", []) if e.get("class") == "STAR"]
    if len(hidden) != len(top) or not all(_plain_star(e) for e in top):
        simple = False
        mentioned = sorted({(t, c) for t in order for c in tables[t]})
    else:
        mentioned = sorted({pair for q, c in _refs(statement) for pair in resolve(q, c)})
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
            return {"exact": True, "columns": {name: [list(p) for p in pairs]
                                               for name, pairs in zip(outputs, mapped, strict=True)}}
    return {"exact": False, "columns": {name: [list(p) for p in mentioned] for name in outputs}}
