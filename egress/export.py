"""A release's table as people read it: a page of rows on the release page, and the same
rows as CSV or XLSX beside the signed bundle (whose Parquet file stays what is signed)."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from egress.bundle import OUTPUT
from egress.errors import InvalidRequest
from sandbox.engine import batch_rows, first_rows

# Each format: its media type and file suffix. "bundle" is the signed zip (egress.bundle).
FORMATS = {
    "bundle": ("application/zip", "zip"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
XLSX_MAX_ROWS = 1_048_575  # a worksheet's rows, less the header
# Text a spreadsheet would run as a formula (CSV injection): in CSV it gets a leading
# apostrophe, in XLSX it is stored as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def checked_format(value: str) -> str:
    if value not in FORMATS:
        raise InvalidRequest("format must be one of {formats}, not {value!r}",
                             formats=', '.join(FORMATS), value=value[:20])
    return value


def page(bundle: Path, offset: int, limit: int) -> dict[str, Any]:
    """Rows ``offset`` .. ``offset + limit`` of the released table, reading only the row
    groups that hold them."""
    parquet = pq.ParquetFile(bundle / OUTPUT)
    total = parquet.metadata.num_rows
    offset = max(0, min(offset, total))
    columns, rows = first_rows(parquet, limit, offset)
    return {"columns": columns, "rows": rows, "offset": offset, "total": total, "limit": limit}


def _cell(value: Any) -> Any:
    """A value a spreadsheet cell holds: numbers, text and dates stay; others become text."""
    if value is None or isinstance(value, bool | int | float | str | dt.date | dt.datetime):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    return str(value)


def _text_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _batches(bundle: Path) -> Iterator[list[Any]]:
    for batch in pq.ParquetFile(bundle / OUTPUT).iter_batches(batch_size=65_536):
        yield from batch_rows(batch)


def write(bundle: Path, fmt: str, target: Path) -> Path:
    """Write the released table of ``bundle`` to ``target`` as ``fmt`` (csv or xlsx)."""
    names = pq.ParquetFile(bundle / OUTPUT).schema_arrow.names
    if fmt == "csv":
        # UTF-8 with a byte-order mark: spreadsheet programs then read Chinese text right.
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            writer.writerows([_text_cell(v) for v in row] for row in _batches(bundle))
        return target
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        rows = pq.ParquetFile(bundle / OUTPUT).metadata.num_rows
        if rows > XLSX_MAX_ROWS:
            raise InvalidRequest("the table has {rows:,} rows; a worksheet holds {xlsx_max_rows:,}: "
                                 "download CSV or the bundle instead",
                                 rows=rows, xlsx_max_rows=XLSX_MAX_ROWS)
        book = Workbook(write_only=True)
        sheet = book.create_sheet("data")
        sheet.append(names)
        def cell(value: Any) -> Any:
            value = _cell(value)
            if isinstance(value, str) and value.startswith("="):
                written = WriteOnlyCell(sheet, value=value)
                written.data_type = "s"  # text, never a formula
                return written
            return value

        for row in _batches(bundle):
            sheet.append([cell(v) for v in row])
        book.save(target)
        return target
    raise InvalidRequest("cannot write {fmt}", fmt=fmt)
