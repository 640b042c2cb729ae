"""Mitigations of an aggregate output, applied inside the platform before release.

- ``suppress``: every failing cell becomes NULL (primary suppression). Where the output holds
  margins (GROUPING SETS, ROLLUP, CUBE), a subtotal equals the sum of the cells under it, so a
  lone suppressed cell could be recovered by subtraction; for additive statistics (counts and
  sums) a second cell of the same relation is suppressed, the smallest one, until no relation
  has exactly one hidden member (secondary suppression).
- ``round``: counts are rounded to the policy's base, margins included (each on its own), so
  sums of rounded cells do not recover a true margin.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from egress.cells import Shape
from egress.disclosure import Assessment
from vault.files import read_table, write_table

MITIGATIONS = ("none", "suppress", "round", "suppress+round")
ADDITIVE = ("frequency", "linear")


def hidden_cells(shape: Shape, stats: pa.Table, assessment: Assessment) -> dict[str, np.ndarray]:
    """Cells to suppress per column: the failing ones, and the secondary ones margins need."""
    hidden = {c: m.copy() for c, m in assessment.failing().items()}
    if not shape.grouping_column:
        return hidden
    groups = _relations(shape, stats)
    for column in {a.column for a in shape.aggregates}:
        if column not in hidden or not all(a.kind in ADDITIVE and a.function in
                                           ("count", "count_star", "sum")
                                           for a in shape.columns_of(column)):
            continue
        mask = hidden[column]
        values = np.nan_to_num(pc.cast(stats.column(column), pa.float64())
                               .to_numpy(zero_copy_only=False), nan=np.inf)
        changed = True
        while changed:
            changed = False
            for members in groups:
                shown = [m for m in members if not mask[m]]
                if len(members) - len(shown) == 1 and shown:
                    mask[min(shown, key=lambda m: abs(values[m]))] = True
                    changed = True
    return hidden


def _relations(shape: Shape, stats: pa.Table) -> list[list[int]]:
    """Sets of rows that add up: a subtotal row and the rows one key finer under it."""
    keys = list(shape.keys)
    bits = stats.column(shape.grouping_column).to_pylist()
    values = [stats.column(k).to_pylist() for k in keys]

    def present(row: int) -> frozenset[int]:
        return frozenset(i for i in range(len(keys))
                         if not (int(bits[row]) >> (len(keys) - 1 - i)) & 1)

    by_subset: dict[frozenset[int], list[int]] = {}
    for row in range(stats.num_rows):
        by_subset.setdefault(present(row), []).append(row)
    relations = []
    for subset, parents in by_subset.items():
        for extra in set(range(len(keys))) - subset:
            children = by_subset.get(subset | {extra})
            if not children:
                continue
            for parent in parents:
                under = [c for c in children
                         if all(values[i][c] == values[i][parent] for i in subset)]
                if under:
                    relations.append([parent, *under])
    return relations


def apply(output: Path, target: Path, shape: Shape, stats: pa.Table, assessment: Assessment,
          mitigation: str, base: int, hidden: dict[str, np.ndarray] | None = None,
          key: bytes | None = None) -> dict[str, int]:
    """Write the mitigated output to ``target`` (``stats`` rows are in ``output``'s order);
    return how many cells were suppressed and rounded. ``hidden``: :func:`hidden_cells`, when
    already known. ``key``: the grant's data key, when the files are encrypted at rest."""
    table = read_table(output, key)
    done = {"suppressed": 0, "secondary": 0, "rounded": 0}
    if "suppress" in mitigation:
        primary = assessment.failing()
        if hidden is None:
            hidden = hidden_cells(shape, stats, assessment)
        for column, mask in hidden.items():
            index = table.column_names.index(column)
            table = table.set_column(index, column, pc.if_else(
                pa.array(mask), pa.scalar(None, table.column(column).type), table.column(column)))
            done["suppressed"] += int(mask.sum())
            done["secondary"] += int((mask & ~primary.get(column, np.zeros_like(mask))).sum())
    if "round" in mitigation:
        for aggregate in shape.aggregates:
            if aggregate.kind == "frequency" and aggregate.alone:
                column = table.column(aggregate.column)
                rounded = pc.multiply(pc.round(pc.divide(pc.cast(column, pa.float64()), base)),
                                      base).cast(column.type)
                table = table.set_column(table.column_names.index(aggregate.column),
                                         aggregate.column, rounded)
                done["rounded"] += table.num_rows
    write_table(table, target, key)
    return done
