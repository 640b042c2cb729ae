"""A release's table reads the same in the console's pages, CSV and XLSX; no cell runs."""

from __future__ import annotations

import csv
import datetime as dt

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egress import export
from egress.bundle import OUTPUT
from egress.errors import InvalidRequest


@pytest.fixture
def bundle(tmp_path):
    folder = tmp_path / "DP-2026-000001"
    folder.mkdir()
    table = pa.table({"区": ["天河", "=HYPERLINK(\"http://x\")", "+1", None, "越秀"] * 30,
                      "n": list(range(150)),
                      "day": [dt.date(2026, 1, 1)] * 150})
    pq.write_table(table, folder / OUTPUT, row_group_size=40)
    return folder


def test_pages_cross_row_groups_and_stop_at_the_end(bundle):
    page = export.page(bundle, 35, 10)
    assert page["columns"] == ["区", "n", "day"] and page["total"] == 150
    assert [r[1] for r in page["rows"]] == list(range(35, 45))
    assert [r[1] for r in export.page(bundle, 145, 50)["rows"]] == list(range(145, 150))
    assert export.page(bundle, 10_000, 5)["rows"] == []


def test_csv_keeps_chinese_and_defuses_formulas(bundle, tmp_path):
    written = export.write(bundle, "csv", tmp_path / "t.csv")
    assert written.read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheets read it as UTF-8
    with written.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["区", "n", "day"] and len(rows) == 151
    assert rows[1][0] == "天河" and rows[2][0].startswith("'=") and rows[3][0] == "'+1"
    assert rows[4][0] == ""


def test_xlsx_stores_formula_text_as_text(bundle, tmp_path):
    written = export.write(bundle, "xlsx", tmp_path / "t.xlsx")
    sheet = openpyxl.load_workbook(written).active
    assert [c.value for c in sheet[1]] == ["区", "n", "day"] and sheet.max_row == 151
    cell = sheet.cell(row=3, column=1)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    assert sheet.cell(row=2, column=2).value == 0


def test_unknown_formats_and_oversized_sheets_are_refused(bundle, tmp_path, monkeypatch):
    with pytest.raises(InvalidRequest, match="format must be one of"):
        export.checked_format("pdf")
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 100)
    with pytest.raises(InvalidRequest, match="download CSV or the bundle"):
        export.write(bundle, "xlsx", tmp_path / "big.xlsx")
    assert not (tmp_path / "big.xlsx").exists()


@settings(max_examples=100, deadline=None)
@given(offset=st.integers(0, 400), limit=st.integers(0, 200), group=st.integers(1, 100))
def test_any_page_is_the_same_rows_as_slicing_the_table(tmp_path_factory, offset, limit, group):
    folder = tmp_path_factory.mktemp("paged")
    pq.write_table(pa.table({"n": list(range(300))}), folder / OUTPUT, row_group_size=group)
    shown = export.page(folder, offset, limit)
    assert [r[0] for r in shown["rows"]] == list(range(300))[min(offset, 300):][:limit]
    assert shown["total"] == 300
