"""Column scans of whole tables: which PII entity each column holds, and how much of it.

A scan works on the distinct values of a column, vectorized: RE2 patterns (Arrow compute) find
the values a recognizer's pattern occurs in, check-character kernels confirm values that are
one identifier whole, and only values with an identifier inside longer text go through the
recognizers in Python, each with just the recognizers whose pattern occurs in it. The answer is
the same as running every recognizer on every value (``tests/anonymize/test_scan.py``).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anonymize.entities import PERSONAL_ENTITIES
from anonymize.recognizers import RECOGNIZERS, TdsRecognizer, detect


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


@cache
def _any_pattern() -> str:
    return "|".join(f"(?:{r.re2_search()})" for r in recognizers())


def normalize(value: str) -> str:
    """What a scan looks at: NFKC (full-width digits are digits) without outer white space."""
    return unicodedata.normalize("NFKC", value).strip()


def _strings(column: pa.ChunkedArray | pa.Array) -> pa.Array | None:
    """The column as strings, or None for types that cannot hold identifiers."""
    type_ = column.type
    if pa.types.is_dictionary(type_):
        column = pc.cast(column, type_.value_type)
        type_ = type_.value_type
    if not (pa.types.is_string(type_) or pa.types.is_large_string(type_)
            or pa.types.is_integer(type_)):
        return None
    column = pc.cast(column, pa.string())
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _mask(values: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(values, pattern).to_numpy(zero_copy_only=False)


def entity_hits(values: pa.Array, weights: np.ndarray) -> Counter[str]:
    """Rows per entity among distinct string ``values``, each standing for ``weights`` rows."""
    engines = recognizers()
    text = pc.utf8_trim_whitespace(pc.utf8_normalize(values, "NFKC"))
    candidates = np.flatnonzero(_mask(text, _any_pattern()))
    hits: Counter[str] = Counter()
    if not len(candidates):
        return hits
    text, weights = text.take(pa.array(candidates)), weights[candidates]
    none = len(engines)
    claimed = np.full(len(text), none, dtype=np.int16)  # first recognizer valid on the whole value
    inside = np.full(len(text), none, dtype=np.int16)  # first recognizer matching inside the text
    occurs = np.zeros((len(engines), len(text)), dtype=bool)  # recognizer's pattern occurs in it
    for i, engine in enumerate(engines):
        rows = np.flatnonzero(_mask(text, engine.re2_search()))
        if not len(rows):
            continue
        occurs[i, rows] = True
        subset = text.take(pa.array(rows))
        whole = _mask(subset, engine.re2_whole())
        part = rows[~whole]
        inside[part] = np.minimum(inside[part], i)
        if whole.any():
            won = rows[whole][engine.valid_many(subset.filter(pa.array(whole)))]
            claimed[won] = np.minimum(claimed[won], i)
    # A valid match of the whole value overlaps every later recognizer's match, so precedence
    # settles the value unless an earlier recognizer matched inside it: those go to Python.
    settled = claimed < inside
    for i in np.unique(claimed[settled]):
        hits[engines[i].ENTITY] += int(weights[settled & (claimed == i)].sum())
    # Only one recognizer's pattern occurs in the value and every match of it is valid.
    alone = ~settled & (inside < none) & (occurs.sum(axis=0) == 1)
    sole = occurs.argmax(axis=0)
    alone &= np.array([e.MATCH_IS_VALID for e in engines])[sole]
    for i in np.unique(sole[alone]):
        hits[engines[i].ENTITY] += int(weights[alone & (sole == i)].sum())
    rows = np.flatnonzero(~settled & ~alone & (inside < none))
    if not len(rows):
        return hits
    # Rows with the same recognizers occurring share one list of them.
    signature = (occurs[:, rows].T * (1 << np.arange(len(engines), dtype=np.int64))).sum(axis=1)
    subsets = {int(sig): [e for i, e in enumerate(engines) if sig >> i & 1]
               for sig in np.unique(signature)}
    for sig, weight, value in zip(signature.tolist(), weights[rows].tolist(),
                                  text.take(pa.array(rows)).to_pylist(), strict=True):
        for entity in detect(value, subsets[sig]):
            hits[entity] += weight
    return hits


def _sample(values: pa.Array, limit: int | None) -> pa.Array:
    if limit is not None and len(values) > limit:
        step = len(values) / limit
        return values.take(pa.array((np.arange(limit) * step).astype(np.int64)))
    return values


def scan_column(name: str, column: pa.ChunkedArray | pa.Array, sample_rows: int | None,
                min_share: float) -> ColumnScan:
    """Scan ``sample_rows`` evenly spaced non-null values of a column (None: every value)."""
    values = _strings(column)
    if values is None:
        return ColumnScan(name, None, 0.0, 0)
    values = _sample(pc.drop_null(values), sample_rows)
    scanned = len(values)
    if not scanned:
        return ColumnScan(name, None, 0.0, 0)
    counted = pc.value_counts(values)
    hits = entity_hits(counted.field("values"),
                       counted.field("counts").to_numpy(zero_copy_only=False))
    entity, fraction = None, 0.0
    if hits:
        best = max(sorted(hits), key=lambda e: hits[e])
        fraction = hits[best] / scanned
        entity = best if fraction >= min_share else None
    return ColumnScan(name, entity, fraction, scanned, dict(hits))


def scan_table(table: pa.Table, sample_rows: int | None = 20_000, min_share: float = 0.3,
               threads: int = 2, progress: Callable[[str], None] | None = None) -> list[ColumnScan]:
    """Scan every column, ``threads`` columns at a time; ``progress(name)`` after each."""
    def one(name: str) -> ColumnScan:
        result = scan_column(name, table.column(name), sample_rows, min_share)
        if progress is not None:
            progress(name)
        return result

    if threads <= 1 or table.num_columns == 1:
        return [one(name) for name in table.column_names]
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="tds-scan") as pool:
        return list(pool.map(one, table.column_names))


def suggest_level(scans: list[ColumnScan]) -> str:
    """L3 where any column holds personal information, L2 for other identifiers, else L1."""
    entities = {s.entity for s in scans if s.entity}
    if entities & PERSONAL_ENTITIES:
        return "L3"
    if entities:
        return "L2"
    return "L1"
