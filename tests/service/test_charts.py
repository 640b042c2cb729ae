"""The monitoring page's charts: readable labels in the reader's number format."""

from __future__ import annotations

import re
from pathlib import Path

from service.web import i18n
from service.web.charts import WIDTH, line_chart


def test_counts_are_labelled_with_thousands_separators():
    token = i18n.current.set("en")
    try:
        svg = line_chart(["2026-01", "2026-02"], {"jobs": [12_000, 15_500]}, "Jobs")
    finally:
        i18n.current.reset(token)
    steps = re.findall(r">[\d,]+<", svg)[:5]
    assert steps == [">0<", ">5,000<", ">10,000<", ">15,000<", ">20,000<"]  # round ones
    assert "jobs 2026-02: 15,500" in svg


def test_small_counts_get_whole_number_steps():
    svg = line_chart(["2026-01"], {"a": [3]}, "A")
    assert re.findall(r">([\d,]+)</text>", svg)[:5] == ["0", "1", "2", "3", "4"]


def test_shares_are_labelled_as_percentages():
    svg = line_chart(["2026-01", "2026-02"], {"on time": [0.5, 0.875]}, "Share", share=True)
    assert ">100%<" in svg and ">50%<" in svg and "87.5%" in svg


def test_labels_are_at_least_twelve_units_and_never_scaled_down():
    svg = line_chart(["2026-01"], {"a": [1]}, "A")
    assert int(re.search(r'font-size="(\d+)"', svg).group(1)) >= 12
    css = (Path(i18n.__file__).parent / "static" / "app.css").read_text(encoding="utf-8")
    assert f"min-width: {WIDTH}px" in css  # the SVG is drawn at least at its own size


def test_series_names_cannot_write_markup():
    svg = line_chart(["2026-01"], {"<script>": [1]}, "<b>")
    assert "<script>" not in svg and "<b>" not in svg
