"""Column scans of whole tables: which PII entity each column holds, and how much of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from anonymize.recognizers import PERSONAL_ENTITIES, RECOGNIZERS, TdsRecognizer, detect


@dataclass
class ColumnScan:
    name: str
    entity: str | None
    fraction: float
    scanned: int
    hits: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "entity": self.entity, "fraction": round(self.fraction, 4),
                "scanned": self.scanned, "hits": dict(sorted(self.hits.items()))}


@cache
def recognizers() -> list[TdsRecognizer]:
    return [cls() for cls in RECOGNIZERS]


def _sample(column: pa.ChunkedArray, limit: int | None) -> list[str]:
    values = pc.drop_null(column)
    if limit is not None and len(values) > limit:
        step = len(values) / limit
        values = values.take(pa.array([int(i * step) for i in range(limit)]))
    return [str(v) for v in values.to_pylist()]


def _scannable(type_: pa.DataType) -> bool:
    if pa.types.is_dictionary(type_):
        type_ = type_.value_type
    return pa.types.is_string(type_) or pa.types.is_large_string(type_) or pa.types.is_integer(type_)


def scan_column(name: str, column: pa.ChunkedArray, sample_rows: int | None,
                min_share: float) -> ColumnScan:
    if not _scannable(column.type):
        return ColumnScan(name, None, 0.0, 0)
    values = _sample(column, sample_rows)
    hits: dict[str, int] = {}
    memo: dict[str, set[str]] = {}
    engines = recognizers()
    for value in values:
        found = memo.get(value)
        if found is None:
            found = memo[value] = detect(value, engines)
        for entity in found:
            hits[entity] = hits.get(entity, 0) + 1
    scanned = len(values)
    entity, fraction = None, 0.0
    if hits and scanned:
        best = max(hits, key=lambda e: hits[e])
        fraction = hits[best] / scanned
        entity = best if fraction >= min_share else None
    return ColumnScan(name, entity, fraction, scanned, hits)


def scan_table(table: pa.Table, sample_rows: int | None = 20_000,
               min_share: float = 0.3) -> list[ColumnScan]:
    """Scan every column (``sample_rows`` evenly spaced non-null values each; None: all)."""
    return [scan_column(name, table.column(name), sample_rows, min_share)
            for name in table.column_names]


def suggest_level(scans: list[ColumnScan]) -> str:
    """L3 where any column holds personal information, L2 for enterprise identifiers, else L1."""
    entities = {s.entity for s in scans if s.entity}
    if entities & PERSONAL_ENTITIES:
        return "L3"
    if entities:
        return "L2"
    return "L1"
