"""Schema-only placeholder data: the simulated target's stand-in until SDV previews exist.

Nothing here reads a real value: each column is filled from its Arrow type alone (numbers in a
fixed range, dates in a fixed window, strings labelled "placeholder"), so the placeholder shows
a table's shape and lets SQL be developed against it, and says nothing about the data.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

KIND = "placeholder"
LABEL = "placeholder generated from the schema only: shape and types, not the data"
_EPOCH = dt.date(2020, 1, 1)


def _column(field: pa.Field, rows: int, rng: np.random.Generator) -> pa.Array:
    kind = field.type
    if pa.types.is_boolean(kind):
        return pa.array(rng.integers(0, 2, rows).astype(bool))
    if pa.types.is_integer(kind):
        return pa.array(rng.integers(0, 100, rows)).cast(kind, safe=False)
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return pa.array(np.round(rng.uniform(0, 1000, rows), 2)).cast(kind, safe=False)
    if pa.types.is_date(kind):
        days = rng.integers(0, 365, rows)
        return pa.array([_EPOCH + dt.timedelta(days=int(d)) for d in days]).cast(kind)
    if pa.types.is_timestamp(kind):
        seconds = rng.integers(0, 365 * 86400, rows)
        start = dt.datetime(2020, 1, 1)
        return pa.array([start + dt.timedelta(seconds=int(s)) for s in seconds]).cast(
            pa.timestamp(kind.unit))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        # A small set of labelled categories per column, so GROUP BY gives something to look at.
        picks = rng.integers(0, 6, rows)
        return pa.array([f"{field.name}_{int(p):02d}" for p in picks], type=kind)
    return pa.nulls(rows, type=kind)


def from_schema(schema: pa.Schema, rows: int, seed: int = 0) -> pa.Table:
    """``rows`` placeholder rows with the columns, names and types of ``schema``."""
    rng = np.random.default_rng(seed)
    arrays = [_column(field, rows, rng) for field in schema]
    return pa.Table.from_arrays(arrays, schema=pa.schema(
        [pa.field(f.name, f.type) for f in schema],
        metadata={b"tds.preview.kind": KIND.encode(), b"tds.preview.label": LABEL.encode()}))
