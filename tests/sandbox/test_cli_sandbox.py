"""`tds sandbox run`, `tds job submit/cancel` and `tds worker` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service import demo_data
from tests.service.test_cli import TDS, tds


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    table = demo_data.hospital_visits(300, seed=3)
    return (demo_data.write(table, folder / "visits.parquet"),
            demo_data.write(table, folder / "visits.csv"))


def run(*args, home):
    done = tds("sandbox", "run", *args, "--json", home=home)
    return done.returncode, json.loads(done.stdout)


def test_sandbox_run_prints_columns_and_rows(files, tmp_path):
    parquet, csv = files
    code, out = run("--data", f"v={parquet}:district,fee", "--data", f"c={csv}:district",
                    "--sql", "SELECT v.district, count(*) AS n FROM v JOIN (SELECT DISTINCT "
                    "district FROM c) USING (district) GROUP BY 1 ORDER BY 1", home=tmp_path)
    assert code == 0, out
    assert out["columns"] == ["district", "n"] and sum(r[1] for r in out["rows"]) == 300


def test_sandbox_run_exposes_only_the_listed_columns(files, tmp_path):
    code, out = run("--data", f"v={files[0]}:district", "--sql", "SELECT patient_name FROM v",
                    home=tmp_path)
    assert code == 1 and 'column "patient_name" not found' in out["error"]
    code, out = run("--data", f"v={files[0]}:district", "--sql", "SELECT * FROM v LIMIT 1",
                    home=tmp_path)
    assert code == 0 and out["columns"] == ["district"]


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_sandbox_run_writes_the_result_to_a_file(files, tmp_path, suffix):
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    target = tmp_path / f"out.{suffix}"
    code, out = run("--data", f"v={files[0]}:district,fee", "--sql",
                    "SELECT district, count(*) AS n FROM v GROUP BY 1", "--out", str(target),
                    home=tmp_path)
    assert code == 0 and out["out"] == str(target) and out["columns"] == ["district", "n"]
    table = pq.read_table(target) if suffix == "parquet" else pcsv.read_csv(target)
    assert table.num_rows == out["rows"] and sum(table.column("n").to_pylist()) == 300
    code, out = run("--data", f"v={files[0]}", "--sql", "SELECT 1 AS x", "--out",
                    str(tmp_path / "out.txt"), home=tmp_path)
    assert code == 1 and ".parquet or .csv" in out["error"]


@pytest.mark.parametrize("sql,message", [
    ("SELECT * FROM read_text('/etc/passwd')", "read_text()"),
    ("COPY v TO '/tmp/x.csv'", "only SELECT"),
    ("SELECT 1; SELECT 2", "exactly one statement"),
    ("SELECT * FROM w", "no table 'w'"),
    # DuckDB itself may open the Parquet file (read natively, through a link of this name in
    # the job's directory): only the gate keeps the SQL from naming it.
    ("SELECT * FROM read_parquet('input-v.parquet')", "read_parquet()"),
    ("SELECT * FROM 'input-v.parquet'", "no table"),
    ("SELECT * FROM parquet_scan('input-v.parquet')", "parquet_scan()"),
])
def test_sandbox_run_refuses_with_exit_1_and_a_json_error(files, tmp_path, sql, message):
    code, out = run("--data", f"v={files[0]}", "--sql", sql, home=tmp_path)
    assert code == 1 and message in out["error"] and set(out) == {"error"}


def test_sandbox_run_leaves_its_input_file_as_it_was_and_names_no_host_path(files, tmp_path):
    import hashlib

    before = hashlib.sha256(files[0].read_bytes()).hexdigest()
    code, out = run("--data", f"v={files[0]}:district,fee", "--sql",
                    "SELECT district::INTEGER AS d FROM v", home=tmp_path)
    assert code == 1 and str(files[0].parent) not in out["error"]
    assert "/tmp" not in out["error"] and "input-v" not in out["error"]
    code, _ = run("--data", f"v={files[0]}:district", "--sql", "SELECT count(*) AS n FROM v",
                  home=tmp_path)
    assert code == 0 and hashlib.sha256(files[0].read_bytes()).hexdigest() == before


def test_sandbox_run_refuses_bad_data_arguments(files, tmp_path):
    code, out = run("--data", "v", "--sql", "SELECT 1", home=tmp_path)
    assert code == 1 and "NAME=FILE" in out["error"]
    code, out = run("--data", f"v={files[0]}:nope", "--sql", "SELECT 1", home=tmp_path)
    assert code == 1 and "no column 'nope'" in out["error"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_ungranted_value_comes_back_over_random_schemas(tmp_path_factory, data):
    """Random tables and grants; whatever SELECT is built, no value of an ungranted column is
    in the result (values are tagged per column so any leak is recognisable)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from policies import load_policy
    from sandbox.local import run_files

    folder = tmp_path_factory.mktemp("prop")
    names = data.draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
                               min_size=2, max_size=6, unique=True))
    granted = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    rows = data.draw(st.integers(1, 30))
    table = pa.table({n: [f"{n}#{i}" for i in range(rows)] for n in names})
    pq.write_table(table, folder / "t.parquet")
    picked = data.draw(st.lists(st.sampled_from([*names, "*"]), min_size=1, max_size=4))
    shape = data.draw(st.sampled_from([
        "SELECT {cols} FROM t", "SELECT {cols} FROM t WHERE true ORDER BY 1",
        "SELECT DISTINCT {cols} FROM (SELECT * FROM t) s",
        "WITH x AS (SELECT * FROM t) SELECT {cols} FROM x",
        "SELECT {cols} FROM t UNION ALL SELECT {cols} FROM t",
        "SELECT COLUMNS('.*') FROM t",
    ]))
    columns = ", ".join(c if c == "*" else f'"{c}"' for c in picked)
    outcome = run_files([("t", folder / "t.parquet", tuple(granted))],
                        shape.format(cols=columns), load_policy().sandbox)
    ungranted = [n for n in names if n not in granted]
    if outcome["status"] != "succeeded":
        assert any(c in ungranted for c in picked) or "several columns" in outcome["error"] or \
            "UNION" in outcome["error"], outcome["error"]
        return
    leaked = {str(v).split("#")[0] for row in outcome["shown"] for v in row}
    assert not leaked & set(ungranted), (granted, outcome["columns"])


def test_job_submit_cancel_and_a_worker(demo_copy):
    """`tds worker` runs what `tds job submit --no-wait` queued, and stops cleanly."""
    home, result = demo_copy
    token = result["tokens"]["merchant"]
    grant = json.loads(tds("grant", "list", "--json", home=home, token=token).stdout)[0]["id"]
    queued = tds("job", "submit", "--grant", str(grant), "--output", "counts", "--no-wait",
                 "--target", "simulated", "--sql", "SELECT count(*) AS n FROM hospital_visits",
                 "--json", home=home, token=token)
    assert queued.returncode == 0, queued.stderr
    job_id = json.loads(queued.stdout)["id"]
    assert json.loads(queued.stdout)["status"] == "queued"
    cancel_me = json.loads(tds("job", "submit", "--grant", str(grant), "--output", "later",
                               "--no-wait", "--sql", "SELECT 1 AS x", "--json", home=home,
                               token=token).stdout)["id"]
    cancelled = tds("job", "cancel", str(cancel_me), "--json", home=home, token=token)
    assert json.loads(cancelled.stdout)["status"] == "cancelled"

    env = {**os.environ, "TDS_HOME": str(home)}
    worker = subprocess.Popen([*TDS, "worker"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            shown = json.loads(tds("job", "show", str(job_id), "--json", home=home,
                                   token=token).stdout)
            if shown["status"] == "succeeded" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert shown["status"] == "succeeded"
        # The demo built the simulated previews: the job counted the preview's rows.
        from policies import load_policy
        assert shown["result"]["simulated"]
        assert shown["result"]["rows"] == [[load_policy().preview_rows]]
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    assert "worker" in worker.stderr.read()


def test_job_dp_and_budget_from_the_command_line(demo_copy):
    """`tds job dp` runs a DP job (simulated: rows shown, nothing spent; real: epsilon spent)
    and `tds job budget` shows what the grant has left; bad options are usage errors."""
    home, result = demo_copy
    token = result["tokens"]["merchant"]
    grant = str(result["grant_id"])
    options = ["--grant", grant, "--table", "hospital_visits", "--by", "district", "--count",
               "--mean", "fee:0:2000", "--quantile", "age:0:100:0.9", "--epsilon", "0.25"]
    simulated = tds("job", "dp", *options, "--output", "dp_sim", "--target", "simulated",
                    "--json", home=home, token=token)
    assert simulated.returncode == 0, simulated.stderr
    shown = json.loads(simulated.stdout)
    assert shown["result"]["columns"] == ["district", "count", "mean_fee", "p90_age"]
    # Not waited for: a real job's outcome shows only at its rounded duration; the budget is
    # spent at submission.
    real = tds("job", "dp", *options, "--output", "dp_real", "--no-wait", home=home,
               token=token)
    assert real.returncode == 0, real.stderr
    assert "differentially private: epsilon 0.25" in real.stdout
    budget = json.loads(tds("job", "budget", "--grant", grant, "--json", home=home,
                            token=token).stdout)
    assert budget["spent"] == result["dp_epsilon_spent"] + 0.25
    bad = tds("job", "dp", "--grant", grant, "--table", "hospital_visits", "--sum", "fee:x",
              "--epsilon", "0.1", "--output", "bad", home=home, token=token)
    assert bad.returncode == 2 and "COLUMN:LOWER:UPPER" in bad.stderr
    too_much = tds("job", "dp", *options[:-1], "9", "--output", "greedy", home=home,
                   token=token)
    assert too_much.returncode == 2 and "epsilon" in too_much.stderr
