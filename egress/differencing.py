"""Differencing: cells of one release subtracted from another's to isolate a few people.

Each checked aggregate output leaves a *fingerprint* inside the platform: per cell, the source
columns its keys come from (column lineage), the key values and the number of source rows in
the cell. A new output is compared with the organization's earlier requests over the same
datasets, and with its own margins: where one side's cells roll up to the other's keys (same
keys, or finer keys summed to coarser ones), a difference of 1 to threshold-1 rows means the
difference isolates that few people (as Google Ads Data Hub's difference checks do). Margins of
one output are compared the same way: a subtotal minus the cells shown under it must not be
small either.

Suppressed cells are recorded (``tds__shown`` false) so that no later release completes them:
a cell hidden in one release (or in the output checked) is recoverable once its margin and
every other cell under that margin are shown, in any mix of the organization's releases, other
organizations' releases and the output checked (secondary suppression across releases).

Sums are differenced too: for each sum-like statistic a cell also records the source rows whose
value is not zero (the ``nonzero`` measure) and the columns the sum adds up. Two sums of a
column in common over cells whose nonzero rows differ by a few, in two outputs or in one
(``sum(x)`` beside ``sum(CASE WHEN id <> 'X' THEN x ELSE 0 END)``), tell those rows' values;
sums of unrelated columns (``sum(fee)`` beside ``sum(age)``) are not compared.
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from catalog.names import quote_identifier
from egress.cells import Shape
from vault.files import write_table

SUBSET = "tds__subset"
ROWS = "tds__rows"
MEASURE = "tds__measure"  # "rows": source rows a cell covers; "nonzero": those moving a sum
AGGREGATE = "tds__aggregate"  # which sum of the output a "nonzero" count is of (-1 for rows)
SHOWN = "tds__shown"  # false: the cell was suppressed in what was (or will be) released
VALUES = "tds__values"  # the columns a sum adds up: sums are compared only when they share one
SELF = "this output"


def key_sources(shape: Shape, traced: dict[str, Any]) -> dict[str, str]:
    """Output key column -> the source column it identifies (``dataset.column``)."""
    out = {}
    for key in shape.keys:
        pairs = traced["columns"].get(key, [])
        out[key] = ".".join(pairs[0]) if len(pairs) == 1 else f"expression:{key}"
    return out


def fingerprint(shape: Shape, stats: pa.Table, sources: dict[str, str],
                hidden: list[bool] | None = None) -> pa.Table:
    """The cells of one output: key subset, key values (as text) per source column, per
    measure the rows (see the module's docstring), and whether the cell is shown (``hidden``:
    per row of ``stats``, true where mitigation suppressed a value of the row)."""
    grouping = stats.column(shape.grouping_column).to_pylist() if shape.grouping_column \
        else [0] * stats.num_rows
    keys = list(shape.keys)
    values = {k: [normal(v) for v in stats.column(k).cast(pa.string()).to_pylist()] for k in keys}
    columns: dict[str, list[Any]] = {SUBSET: [], ROWS: stats.column(shape.rows_column).to_pylist()}
    for source in sorted(set(sources.values())):
        columns[source] = []
    cells = _cells(grouping, keys, values, sources, shape.grouping_column is not None, columns)
    measures = [("rows", -1, None, columns.pop(ROWS))] + [
        ("nonzero", a.index, list(a.values), stats.column(a.stats["nonzero"]).to_pylist())
        for a in shape.aggregates if "nonzero" in a.stats]
    shown = pa.array([not h for h in hidden] if hidden is not None else [True] * stats.num_rows,
                     pa.bool_())
    parts = [pa.table({**cells, MEASURE: [measure] * len(counts),
                       AGGREGATE: pa.array([index] * len(counts), pa.int32()),
                       ROWS: pa.array(counts, pa.int64()), SHOWN: shown,
                       VALUES: pa.array([values] * len(counts), pa.list_(pa.string()))})
             for measure, index, values, counts in measures]
    return pa.concat_tables([parts[0], *(p.cast(parts[0].schema) for p in parts[1:])])


def _cells(grouping: list[Any], keys: list[str], values: dict[str, list[Any]],
           sources: dict[str, str], margins: bool, columns: dict[str, list[Any]]
           ) -> dict[str, list[Any]]:
    for row, bits in enumerate(grouping):
        # GROUPING(): bit i (from the left, of len(keys)) set means key i is aggregated away
        present = [k for i, k in enumerate(keys)
                   if not (int(bits) >> (len(keys) - 1 - i)) & 1] if margins else keys
        columns[SUBSET].append(",".join(sorted(sources[k] for k in present)))
        for source in sorted(set(sources.values())):
            hits = [values[k][row] for k in present if sources[k] == source]
            columns[source].append(hits[0] if hits else None)
    return columns


def normal(value: str | None) -> str | None:
    """A key as compared across outputs: full-width and case folded, spaces trimmed, numbers
    in one form (' 01', '1.0' and '1' are one cell)."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", value).strip().casefold()
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number):
        return str(int(number)) if number.is_integer() else repr(number)
    return text


def save(path: Path, table: pa.Table, key: bytes | None = None) -> None:
    """Keep an output's fingerprint (encrypted with ``key``, the egress records' data key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_table(table, path, key)


def compare(current: pa.Table, earlier: dict[str, pa.Table], threshold: int,
            limit: int = 100) -> list[dict[str, Any]]:
    """Pairs of cells whose row counts (of one measure) differ by 1 to threshold-1 where one
    rolls up onto the other, and sums of one cell whose nonzero rows differ so. ``earlier``
    maps a label (e.g. ``egress:12``) to a fingerprint; the current output is compared with
    itself too (its margins)."""
    con = duckdb.connect()
    con.register("cur", _measured(current))
    found = _within_cells(con, [c for c in current.column_names
                                if c not in (SUBSET, ROWS, SHOWN, VALUES)], threshold, limit)
    for label, table in [(SELF, current), *earlier.items()]:
        con.register("old", _measured(table))
        for measure in ("rows", "nonzero"):
            subsets = {side: {r[0] for r in con.execute(
                f"SELECT DISTINCT {SUBSET} FROM {side} WHERE {MEASURE} = ?", [measure]).fetchall()}
                for side in ("cur", "old")}
            # finer cells of one side summed onto coarser (or equal) cells of the other; within
            # the output itself one direction covers every pair
            for fine_table, coarse_table in [("cur", "old")] if label == SELF else \
                    [("cur", "old"), ("old", "cur")]:
                for fine in subsets[fine_table]:
                    for coarse in subsets[coarse_table]:
                        if not _split(coarse) <= _split(fine) or (label == SELF and fine == coarse):
                            continue
                        found.extend(_differences(con, fine_table, coarse_table, fine, coarse,
                                                  sorted(_split(coarse)), threshold, label,
                                                  measure, limit - len(found)))
                        if len(found) >= limit:
                            return found
    return found


def _measured(table: pa.Table) -> pa.Table:
    """A fingerprint saved before measures were recorded holds rows only; one saved before
    suppression was recorded shows every cell."""
    if SHOWN not in table.column_names:
        table = table.append_column(SHOWN, pa.array([True] * table.num_rows, pa.bool_()))
    if VALUES not in table.column_names:  # saved before: its sums compare with every sum
        table = table.append_column(VALUES, pa.nulls(table.num_rows, pa.list_(pa.string())))
    if MEASURE in table.column_names:
        return table
    return table.append_column(MEASURE, pa.array(["rows"] * table.num_rows, pa.string())) \
        .append_column(AGGREGATE, pa.array([-1] * table.num_rows, pa.int32()))


Cell = tuple[str, tuple[tuple[str, str | None], ...]]  # (subset, ((source, value), ...))


def _cell_rows(table: pa.Table) -> list[tuple[Cell, bool]]:
    """Each cell of a fingerprint once (its rows measure) and whether it is shown."""
    table = _measured(table)
    rows = table.filter(pc.equal(table.column(MEASURE), "rows")).to_pylist()
    return [((r[SUBSET], tuple((s, r.get(s)) for s in sorted(_split(r[SUBSET])))), r[SHOWN])
            for r in rows]


def recoverable(current: pa.Table, released: dict[str, pa.Table], others: dict[str, pa.Table],
                limit: int = 100) -> list[dict[str, Any]]:
    """Suppressed cells that subtraction recovers once the current output is released.

    A cell hidden in a release or in ``current`` is recoverable when, for one of its keys, the
    margin without that key is shown and so is every other cell under that margin, each in
    ``current`` or one of the ``released`` fingerprints. Which cells sit under a margin is
    taken from every fingerprint (``others``: drafts and withdrawn requests too, whose cells
    exist though they were not released). Only risks the current output takes part in are
    reported: one it shows a cell of, or hides the cell of."""
    shown: dict[Cell, str] = {}
    hidden: dict[Cell, str] = {}
    mine_shown: set[Cell] = set()
    mine_hidden: set[Cell] = set()
    everything: set[Cell] = set()
    for label, table in [(SELF, current), *released.items(), *others.items()]:
        for cell, is_shown in _cell_rows(table):
            everything.add(cell)
            if label in others:
                continue
            (shown if is_shown else hidden).setdefault(cell, label)
            if label == SELF:
                (mine_shown if is_shown else mine_hidden).add(cell)
    # members of each relation: (subset, the key left out, the other keys' values) -> cells
    under: dict[tuple[str, str, tuple[tuple[str, str | None], ...]], set[Cell]] = {}
    for cell in everything:
        subset, values = cell
        for i, (source, _) in enumerate(values):
            under.setdefault((subset, source, values[:i] + values[i + 1:]), set()).add(cell)
    found: list[dict[str, Any]] = []
    for cell in sorted(hidden.keys() - shown.keys(), key=str):  # shown elsewhere: no secret
        subset, values = cell
        for i, (source, _) in enumerate(values):
            rest = values[:i] + values[i + 1:]
            margin = (",".join(sorted(s for s, _ in rest)), rest)
            siblings = under[(subset, source, rest)] - {cell}
            if margin not in shown or not all(s in shown for s in siblings):
                continue
            if cell not in mine_hidden and margin not in mine_shown and \
                    not siblings & mine_shown:
                continue
            found.append({"cell": {s: v for s, v in values if v is not None},
                          "suppressed_in": hidden[cell],
                          "completed_by": sorted({shown[margin], *(shown[s] for s in siblings)})})
            break
        if len(found) >= limit:
            break
    return found


def _within_cells(con: duckdb.DuckDBPyConnection, columns: list[str], threshold: int,
                  limit: int) -> list[dict[str, Any]]:
    """Sums of one cell of the output (``cur``) whose nonzero rows differ by 1 to
    threshold-1; ``columns`` are the fingerprint's columns but the subset and the rows."""
    keys = [c for c in columns if c not in (MEASURE, AGGREGATE)]
    same = " AND ".join(f"a.{quote_identifier(k)} IS NOT DISTINCT FROM b.{quote_identifier(k)}"
                        for k in [SUBSET, *keys])
    rows = con.execute(f"""
        SELECT DISTINCT {', '.join(f'a.{quote_identifier(k)}' for k in [SUBSET, *keys])}
        FROM cur a JOIN cur b ON {same} AND a.{AGGREGATE} < b.{AGGREGATE}
            AND {_sharing('a', 'b')}
        WHERE a.{MEASURE} = 'nonzero' AND b.{MEASURE} = 'nonzero'
            AND abs(a.{ROWS} - b.{ROWS}) BETWEEN 1 AND ? - 1
        LIMIT ?""", [threshold, limit]).fetchall()
    return [{"compared_with": SELF, "cell": {k: v for k, v in zip(keys, r[1:], strict=True)
                                             if v is not None},
             "keys": {"finer": r[0], "coarser": r[0]}} for r in rows]


def _sharing(a: str, b: str) -> str:
    """SQL: two measures of sums that add up a column in common (or of unknown columns)."""
    return (f"({a}.{VALUES} IS NULL OR {b}.{VALUES} IS NULL OR "
            f"list_has_any({a}.{VALUES}, {b}.{VALUES}))")


def _split(subset: str) -> set[str]:
    return set(subset.split(",")) if subset else set()


def _differences(con: duckdb.DuckDBPyConnection, fine_table: str, coarse_table: str, fine: str,
                 coarse: str, keys: list[str], threshold: int, label: str, measure: str,
                 limit: int) -> list[dict[str, Any]]:
    # Each key is a column of both tables: a fingerprint has a column per source its subsets
    # name.
    select = ", ".join(quote_identifier(k) for k in keys)
    join = " AND ".join(f"f.{q} IS NOT DISTINCT FROM c.{q}"
                        for q in map(quote_identifier, keys)) or "TRUE"
    rows = con.execute(f"""
        WITH f AS (SELECT {select}{',' if keys else ''} {AGGREGATE}, {VALUES},
                          sum({ROWS}) AS n
                   FROM {fine_table} WHERE {SUBSET} = ? AND {MEASURE} = ? GROUP BY ALL),
             c AS (SELECT {select}{',' if keys else ''} {VALUES}, {ROWS} AS n
                   FROM {coarse_table} WHERE {SUBSET} = ? AND {MEASURE} = ?)
        SELECT DISTINCT {', '.join(f'c.{quote_identifier(k)}' for k in keys) or "NULL"}
        FROM f JOIN c ON {join} AND {_sharing('f', 'c')}
        WHERE abs(c.n - f.n) BETWEEN 1 AND ? - 1
        LIMIT ?""", [fine, measure, coarse, measure, threshold, limit]).fetchall()
    # Which cells and where, never the counts: the merchant reads them (see checks.differencing).
    return [{"compared_with": label, "cell": dict(zip(keys, r, strict=True)),
             "keys": {"finer": fine, "coarser": coarse}} for r in rows]
