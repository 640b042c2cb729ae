"""Simulated data looks like the data and never reuses its values."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from service import demo_data
from synth.simulate import OTHER, Options, simulate

TABLES = {
    "visits": lambda: demo_data.hospital_visits(2500, seed=21),
    "firms": lambda: demo_data.enterprises(2500, seed=22),
    "traffic": lambda: demo_data.traffic(2500, seed=23),
    "mixed": lambda: demo_data.scan_table(2500, seed=24),
}


@pytest.fixture(scope="module", params=sorted(TABLES))
def simulated(request, tmp_path_factory):
    real = TABLES[request.param]()
    out, report = simulate(real, Options(rows=600, k_min=10, seed=5),
                           tmp_path_factory.mktemp("sdv"))
    return request.param, real, out, report


def test_columns_names_and_types_are_the_real_ones(simulated):
    _, real, out, _ = simulated
    assert out.num_rows == 600 and out.column_names == real.column_names
    assert [f.type for f in out.schema] == [f.type for f in real.schema]
    assert out.schema.metadata[b"tds.preview.kind"] == b"sdv-gaussian-copula"


def test_no_real_identifier_name_address_or_row_appears(simulated):
    _, real, out, report = simulated
    for name, plan in report["columns"].items():
        if plan["kind"] in ("pii", "identifier"):
            mine = pc.cast(out.column(name), pa.string())
            theirs = pc.cast(pc.drop_null(real.column(name)), pa.string())
            assert not pc.any(pc.is_in(mine, value_set=theirs)).as_py(), name
    real_rows = {tuple(r.values()) for r in real.to_pylist()}
    assert not any(tuple(r.values()) in real_rows for r in out.to_pylist())
    assert report["exact_row_matches"] == 0 and report["reused_identifier_values"] == 0


def test_rare_categories_never_appear_and_extremes_are_hidden(simulated):
    _, real, out, report = simulated
    for name, plan in report["columns"].items():
        column = real.column(name)
        if plan["kind"] == "categorical":
            counts = pc.value_counts(pc.drop_null(column)).to_pylist()
            rare = {c["values"] for c in counts if c["counts"] < 10}
            shown = set(pc.drop_null(out.column(name)).to_pylist())
            assert not shown & rare, name
            assert shown <= {c["values"] for c in counts} | {OTHER}
        if plan["kind"] == "numerical":
            low, high = pc.min_max(column).values()
            mine = pc.min_max(out.column(name))
            assert mine["min"].as_py() > low.as_py() or mine["max"].as_py() < high.as_py()


def test_the_preview_resembles_the_data(simulated):
    name, _, _, report = simulated
    assert report["quality"] is None or report["quality"] >= 0.8, (name, report["quality"])
    if report["dcr"]:
        assert 0 <= report["dcr"]["score"] <= 1


def test_simulation_runs_with_the_network_cut_off(tmp_path):
    from tests.helpers import run_offline
    program = """
import sys
from pathlib import Path
from service import demo_data
from synth.simulate import Options, simulate
out, report = simulate(demo_data.traffic(800, seed=1), Options(rows=100), Path(sys.argv[1]))
print(out.num_rows, report["exact_row_matches"])
"""
    done = run_offline(program, str(tmp_path / "sdv"),
                       env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["100", "0"]
    assert (tmp_path / "sdv" / "sdv").exists()  # SDV's logger config stays out of $HOME
    assert not (tmp_path / "home" / ".local" / "share" / "sdv").exists()


def test_rows_equal_to_real_rows_are_drawn_again_or_dropped(tmp_path):
    # Three of the four combinations exist: rows equal to them are drawn again.
    real = pa.table({"sex": ["男", "女"] * 200, "grade": ["A", "B", "A", "C"] * 100})
    out, report = simulate(real, Options(rows=50, k_min=5, seed=1), tmp_path)
    real_rows = {tuple(r.values()) for r in real.to_pylist()}
    assert out.num_rows == 50 and report["rows_redrawn"] > 0
    assert not any(tuple(r.values()) in real_rows for r in out.to_pylist())
    # Every combination exists: no row can be shown.
    full = pa.table({"sex": ["男", "女"] * 200, "grade": ["A", "A", "B", "B"] * 100})
    out, report = simulate(full, Options(rows=50, k_min=5, seed=1), tmp_path)
    assert out.num_rows == 0 and report["exact_row_matches"] == 0
