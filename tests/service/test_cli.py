"""The `tds` command: demo end to end, home setup, clear errors, offline tools."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import BACKEND

TDS = [sys.executable, "-m", "service.cli"]


@dataclasses.dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def tds(*args: str, home: Path, token: str | None = None, database_url: str | None = None,
        passphrase: str | None = None, process: bool = False, key_file: str | None = None
        ) -> Ran:
    """Run `tds ARGS` as the user would, on ``home``: in this process through click's runner
    (the commands are what is tested), or as a child process where that is the point."""
    env = {"TDS_HOME": str(home), "TDS_TOKEN": token or None,
           "TDS_DATABASE_URL": database_url or None, "TDS_KEY_PASSPHRASE": passphrase or None,
           "TDS_KEY_FILE": key_file or None}
    if process:
        full = {k: v for k, v in os.environ.items() if k not in env} | \
            {k: v for k, v in env.items() if v is not None}
        done = subprocess.run([*TDS, *args], capture_output=True, text=True, env=full,
                              timeout=300, cwd=Path(__file__).parents[2])
        return Ran(done.returncode, done.stdout, done.stderr)
    from service.cli import main

    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def demo(demo_run):
    """The session's demo run (SQLite home), for tests that only read it."""
    return demo_run


def test_demo_ends_with_a_verified_release(demo):
    home, result = demo
    assert result["release_verified"] and result["ledger_valid"]
    assert {"release_path", "application_id", "job_id", "datasets", "tokens"} <= set(result)
    assert set(result["tokens"]) >= {"admin", "provider", "merchant", "reviewer"}
    assert [d["name"] for d in result["datasets"]] == [
        "hospital_visits", "enterprise_registry", "traffic_records"]
    # The L3 datasets, the grant and the egress records have data keys: their files on disk
    # are encrypted (the release bundle, which leaves, is not).
    assert result["data_keys"] >= 3
    from vault.files import is_encrypted

    assert is_encrypted(Path(result["home"]) / "datasets" / "hospital_visits" / "v1.parquet")
    assert not is_encrypted(Path(result["release_path"]) / "output.parquet")
    assert result["job_rows"] == "10–99"  # a band: the exact count of real data is not shown
    verified = tds("release", "verify", result["release_path"], "--json", home=home)
    assert verified.returncode == 0 and json.loads(verified.stdout)["valid"]


def test_demo_on_the_configured_backend(tmp_path, database_url):
    if database_url is None:
        pytest.skip("on SQLite the session's shared demo run is this test")
    done = tds("demo", "--json", home=tmp_path / "h", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["release_verified"]


def test_release_verify_exits_1_on_a_tampered_copy(demo, tmp_path):
    home, result = demo
    copy = tmp_path / "bundle"
    shutil.copytree(result["release_path"], copy)
    with (copy / "output.parquet").open("ab") as f:
        f.write(b"!")
    done = tds("release", "verify", str(copy), "--json", home=home)
    assert done.returncode == 1
    assert "modified" in json.loads(done.stdout)["problems"][0]


def test_ledger_verify_detects_a_payload_edit_made_in_the_database(demo_copy):
    if BACKEND == "postgresql":
        pytest.skip("this test edits the SQLite file directly; the PostgreSQL case is in lineage")
    home, _ = demo_copy
    assert tds("ledger", "verify", "--json", home=home).returncode == 0
    con = sqlite3.connect(home / "tds.sqlite3")
    con.execute("DROP TRIGGER ledger_events_no_update")
    con.execute("UPDATE ledger_events SET payload = '{\"tampered\": true}' WHERE seq = 2")
    con.commit()
    con.close()
    done = tds("ledger", "verify", "--json", home=home)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["valid"] is False and "event 2 was modified" in report["problems"][0]


def test_init_makes_a_private_key_and_a_policy_copy(tmp_path):
    home = tmp_path / "home"
    done = tds("init", "--json", home=home, passphrase="s3cret")
    assert done.returncode == 0, done.stderr
    key = home / "keys" / "platform_ed25519.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"ENCRYPTED" in key.read_bytes()
    assert (home / "policy.toml").read_text().startswith("# Default policy")
    again = tds("user", "list", home=home)  # no passphrase: the key cannot be used
    assert again.returncode == 0  # listing users needs no signature
    refused = tds("user", "add", "x", "--role", "admin", home=home)
    assert refused.returncode == 2
    assert "TDS_KEY_PASSPHRASE" in refused.stderr and "Traceback" not in refused.stderr


def test_user_add_prints_a_token_once_and_stores_only_its_hash(tmp_path):
    home = tmp_path / "home"
    tds("init", home=home)
    done = tds("user", "add", "alice", "--role", "merchant", "--org", "甲公司", "--json",
               home=home)
    token = json.loads(done.stdout)["token"]
    assert token.startswith("tds_")
    assert token.encode() not in (home / "tds.sqlite3").read_bytes()
    me = tds("dataset", "list", "--json", home=home, token=token)
    assert me.returncode == 0 and json.loads(me.stdout) == []


def test_user_passwd_sets_a_console_password_the_demo_users_have_one(tmp_path, demo_copy):
    from fastapi.testclient import TestClient

    from service.api.app import create_app
    from service.home import Home
    from tests.service.web_helpers import sign_in

    home = tmp_path / "home"
    tds("init", home=home)
    tds("user", "add", "alice", "--role", "merchant", "--org", "甲公司", home=home)
    short = subprocess.run([*TDS, "user", "passwd", "alice", "--password-stdin"], input="short\n",
                           capture_output=True, text=True, env={**os.environ, "TDS_HOME": str(home)})
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
    done = subprocess.run([*TDS, "user", "passwd", "alice", "--password-stdin"],
                          input="a good long password\n", capture_output=True, text=True,
                          env={**os.environ, "TDS_HOME": str(home)})
    assert done.returncode == 0 and "password of alice set" in done.stdout
    assert b"a good long password" not in (home / "tds.sqlite3").read_bytes()
    client = TestClient(create_app(Home.from_env(home), workers=0))
    assert sign_in(client, "alice", "a good long password").status_code == 303
    demo_home, result = demo_copy  # the demo prints a console account per role that signs in
    account = result["console"]["merchant"]
    demo_client = TestClient(create_app(Home.from_env(demo_home), workers=0))
    assert sign_in(demo_client, account["user"], account["password"]).status_code == 303


def test_user_token_replaces_a_token_and_the_old_one_stops_working(tmp_path):
    home = tmp_path / "home"
    tds("init", home=home)
    old = json.loads(tds("user", "add", "bob", "--role", "admin", "--json", home=home).stdout)
    new = json.loads(tds("user", "token", "bob", "--json", home=home).stdout)
    assert new["token"] != old["token"] and new["token_expires_at"] > new["token_issued_at"]
    assert tds("user", "list", home=home).returncode == 0
    refused = tds("dataset", "list", home=home, token=old["token"])
    assert refused.returncode != 0 and "not valid" in refused.stderr
    assert tds("dataset", "list", "--json", home=home, token=new["token"]).returncode == 0


@pytest.mark.parametrize("args,message", [
    (["dataset", "list"], "no API token"),
    (["apply", "--scenario", "s", "--description", "d", "--purpose", "p", "--products", "x",
      "--months", "1", "--dataset", "a:b"], "no API token"),
])
def test_errors_are_one_clear_line_without_traceback(tmp_path, args, message):
    home = tmp_path / "home"
    tds("init", home=home)
    done = tds(*args, home=home)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_commands_on_an_uninitialized_home_say_what_to_do(tmp_path):
    done = tds("dataset", "list", home=tmp_path / "nothing")
    assert done.returncode == 2 and "run `tds init`" in done.stderr


def test_wrong_role_gets_a_clear_refusal(demo):
    home, result = demo
    done = tds("application", "decide", str(result["application_id"]), "--approve",
               home=home, token=result["tokens"]["merchant"])
    assert done.returncode == 2 and "needs the role reviewer" in done.stderr
    as_json = tds("application", "decide", str(result["application_id"]), "--approve", "--json",
                  home=home, token=result["tokens"]["merchant"])
    assert json.loads(as_json.stdout)["kind"] == "forbidden"


def test_real_job_output_is_never_printed(demo):
    home, result = demo
    done = tds("job", "show", str(result["job_id"]), "--json", home=home,
               token=result["tokens"]["merchant"])
    shown = json.loads(done.stdout)
    assert set(shown["output"]) == {"rows", "rows_band", "rows_text", "schema", "sha256"}
    # A band of rows, no hash: exact figures of real data are oracles of its values.
    assert shown["output"]["rows"] is None and shown["output"]["sha256"] is None
    text = tds("job", "show", str(result["job_id"]), home=home,
               token=result["tokens"]["merchant"]).stdout
    assert f"{shown['output']['rows_text']} rows" in text and " ms" not in text


def test_administrators_list_and_acknowledge_alerts(demo_copy):
    home, result = demo_copy
    listed = tds("alert", "list", "--json", home=home)  # the operator of the home
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    refused = tds("alert", "list", home=home, token=result["tokens"]["merchant"])
    assert refused.returncode == 2 and "needs the role admin" in refused.stderr
    missing = tds("alert", "ack", "99", home=home)
    assert missing.returncode == 2 and "no alert 99" in missing.stderr


def test_scan_classifies_columns_of_a_file(demo, tmp_path):
    from service import demo_data
    path = demo_data.write(demo_data.hospital_visits(200, seed=1), tmp_path / "v.csv")
    done = tds("scan", str(path), "--json", home=demo[0])
    columns = {c["name"]: c["entity"] for c in json.loads(done.stdout)}
    assert columns["resident_id"] == "CN_RESIDENT_ID" and columns["fee"] is None


def test_scan_of_a_large_file_shows_progress_but_not_with_json(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    rows = 100_000  # x 12 columns: above the size that shows a bar
    values = pa.array([f"1381234{i % 10000:04d}" for i in range(rows)])
    pq.write_table(pa.table({f"c{i}": values for i in range(12)}), tmp_path / "big.parquet")
    shown = tds("scan", str(tmp_path / "big.parquet"), "--full", home=tmp_path / "h")
    assert shown.returncode == 0, shown.stderr
    assert "scanning columns" in shown.stderr
    assert "CN_MOBILE" in shown.stdout and "100.0% of 100000" in shown.stdout
    quiet = tds("scan", str(tmp_path / "big.parquet"), "--full", "--json", home=tmp_path / "h")
    assert quiet.stderr == "" and json.loads(quiet.stdout)[0]["hits"] == {"CN_MOBILE": rows}


def test_scan_refuses_contradictory_options(tmp_path):
    from service import demo_data
    path = demo_data.write(demo_data.hospital_visits(20, seed=1), tmp_path / "v.parquet")
    done = tds("scan", str(path), "--full", "--sample", "5", home=tmp_path / "h")
    assert done.returncode != 0 and "not both" in done.stderr and "Traceback" not in done.stderr


def test_ledger_proofs_search_and_key_rotation_from_the_cli(tmp_path):
    home = tmp_path / "h"
    assert tds("init", home=home).returncode == 0
    for name in ("ann", "bob", "cai"):
        assert tds("user", "add", name, "--role", "merchant", "--org", "甲公司",
                   home=home).returncode == 0
    proof = tds("ledger", "proof", "2", "--json", home=home)
    assert proof.returncode == 0, proof.stderr
    document = json.loads(proof.stdout)
    assert document["event"]["seq"] == 2 and document["tree_size"] >= 3
    shown = tds("ledger", "proof", "2", home=home)
    assert "verified" in shown.stdout
    assert "no ledger event" in tds("ledger", "proof", "99", home=home).stderr
    rotated = tds("keys", "rotate", "--json", home=home)
    assert rotated.returncode == 0, rotated.stderr
    assert tds("user", "add", "dai", "--role", "reviewer", "--org", "局", home=home).returncode == 0
    verified = json.loads(tds("ledger", "verify", "--json", home=home).stdout)
    assert verified["valid"] and len(verified["keys"]) == 2
    consistent = tds("ledger", "consistency", str(document["tree_size"]), home=home)
    assert consistent.returncode == 0 and "CONSISTENT" in consistent.stdout, consistent.stderr

    page = json.loads(tds("ledger", "log", "--action", "user.*", "--limit", "2", "--json",
                          home=home).stdout)
    assert [e["action"] for e in page["events"]] == ["user.created"] * 2
    assert all(e["status"] == "verified" for e in page["events"])
    rest = json.loads(tds("ledger", "log", "--action", "user.*", "--before",
                          str(page["next_before"]), "--json", home=home).stdout)
    assert len(rest["events"]) == 2 and rest["next_before"] is None
    assert "ISO date" in tds("ledger", "log", "--since", "yesterday", home=home).stderr


def test_lineage_of_the_demo_release_up_to_its_datasets_and_down_from_a_dataset(demo, tmp_path):
    home, _ = demo
    up = tds("lineage", "show", "release:1", "--up", "--json", home=home)
    assert up.returncode == 0, up.stderr
    graph = json.loads(up.stdout)
    kinds = {n["kind"] for n in graph["nodes"]}
    assert {"dataset_version", "job", "output", "egress", "release"} <= kinds
    assert "download" not in kinds  # --up stops at the release
    edges = {(e["from"], e["to"]) for e in graph["edges"]}
    egress = next(n["id"] for n in graph["nodes"] if n["kind"] == "egress")
    assert (egress, "release:1") in edges
    down = json.loads(tds("lineage", "show", "dataset:hospital_visits", "--down", "--json",
                          home=home).stdout)
    assert "release:1" in {n["id"] for n in down["nodes"]}
    picture = tmp_path / "lineage.svg"
    drawn = tds("lineage", "show", "release:1", "--svg", str(picture), home=home)
    assert drawn.returncode == 0, drawn.stderr
    assert picture.read_text().lstrip().startswith(("<?xml", "<svg")) and "release:1" in \
        picture.read_text()
    dot = tds("lineage", "show", "release:1", "--dot", home=home).stdout
    assert dot.startswith("digraph lineage") and '"release:1"' in dot
    missing = tds("lineage", "show", "job:99999", home=home)
    assert missing.returncode != 0 and "no lineage node" in missing.stderr


def test_disclosure_report_of_the_demo_year_from_the_ledger(demo, tmp_path):
    import datetime as dt
    home, _ = demo
    year = str(dt.datetime.now(dt.UTC).year)
    done = tds("report", "disclosure", "--year", year, "--format", "json", home=home)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["grants"]) >= 1 and report["grants"][0]["datasets"]
    assert len(report["products"]) == 1 and report["products"][0]["product_no"].startswith("DP-")
    assert {u["dataset"] for u in report["dataset_use"]} >= {"hospital_visits"}
    timeliness = report["review_timeliness"]
    assert timeliness["applications_decided"] >= 1
    assert timeliness["decided_within_deadline_share"] == 1.0
    assert report["indicators"]["resource_supply"]["datasets_registered"] == 3
    md = tds("report", "disclosure", "--year", year, home=home).stdout
    assert md.startswith("# Disclosure report") and "## Products released" in md
    page = tmp_path / "r.html"
    assert tds("report", "disclosure", "--year", year, "--format", "html", "--out", str(page),
               home=home).returncode == 0
    assert page.read_text().startswith("<!doctype html>")
    empty = json.loads(tds("report", "disclosure", "--year", "2001", "--format", "json",
                           home=home).stdout)
    assert empty["grants"] == [] and empty["products"] == []


def test_openlineage_export_of_the_demo_loads_back(demo, tmp_path):
    home, _ = demo
    target = tmp_path / "lineage.jsonl"
    done = tds("lineage", "export", "--openlineage", str(target), home=home)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in target.read_text().splitlines() if line.strip()]
    datasets = [e for e in events if "dataset" in e and "run" not in e]
    runs = [e for e in events if "run" in e]
    assert {d["dataset"]["name"] for d in datasets} >= {"datasets/hospital_visits/v1"}
    assert all(d["dataset"]["facets"]["schema"]["fields"] for d in datasets)
    complete = [r for r in runs if r["eventType"] == "COMPLETE"]
    assert complete and {r["eventType"] for r in runs} <= {"START", "COMPLETE", "FAIL"}
    real = next(r for r in complete if "/real/" in r["job"]["name"])
    assert real["job"]["facets"]["sql"]["query"].lstrip().upper().startswith(("SELECT", "WITH"))
    output = real["outputs"][0]
    assert output["facets"]["schema"]["fields"]
    lineage = output["facets"]["columnLineage"]["fields"]
    assert lineage and any(f["inputFields"] for f in lineage.values())
    assert all(i["name"] in {x["name"] for x in real["inputs"]}
               for f in lineage.values() for i in f["inputFields"])
    assert tds("lineage", "export", "--openlineage", str(target), home=home).returncode != 0


def test_synth_writes_simulated_rows_and_reports_leaks(tmp_path):
    from service import demo_data
    source = demo_data.write(demo_data.hospital_visits(1500, seed=9), tmp_path / "v.csv")
    out = tmp_path / "sim.parquet"
    done = tds("synth", str(source), "--rows", "300", "--out", str(out), "--json",
               home=tmp_path / "h")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert {"quality", "exact_row_matches", "reused_identifier_values", "seconds"} <= set(report)
    assert report["exact_row_matches"] == 0 and report["reused_identifier_values"] == 0
    import pyarrow.parquet as pq
    assert pq.read_table(out).num_rows == 300
    again = tds("synth", str(source), "--rows", "5", "--out", str(out), home=tmp_path / "h")
    assert again.returncode != 0 and "exists" in again.stderr


def test_the_demo_summary_says_how_to_call_tds_when_it_is_not_on_the_path(
        demo, tmp_path, monkeypatch):
    from service.cli import setup

    script = tmp_path / ".venv" / "bin" / "tds"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr("sys.argv", [str(script)])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(tmp_path)
    text = setup.demo_text(demo[1])
    assert ".venv/bin/tds serve" in text and "{" not in text  # words, not a Python dict
    monkeypatch.setenv("PATH", str(script.parent))
    assert setup.command() == "tds"


def test_keys_data_lists_fingerprints_and_rewrap_rotates_the_master_key(home, grant_id,
                                                                       tmp_path):
    listed = tds("keys", "data", "--json", home=home.root, database_url=home.database_url)
    assert listed.returncode == 0, listed.stderr
    shown = json.loads(listed.stdout)
    assert {(k["scope"], k["scope_id"]) for k in shown["keys"]} == {("dataset", 1),
                                                                    ("grant", grant_id)}
    assert shown["master_kid"] == home.master_key.kid and shown["live"] == 2
    assert "key" not in {k for row in shown["keys"] for k in row}  # never the key itself
    new = tmp_path / "new-master.json"
    done = tds("keys", "rewrap", "--key-file", str(new), "--json", home=home.root,
               database_url=home.database_url)
    assert done.returncode == 0, done.stderr
    rotated = json.loads(done.stdout)
    assert rotated["rewrapped"] == 2 and rotated["created"] and new.exists()
    after = json.loads(tds("keys", "data", "--json", home=home.root,
                           database_url=home.database_url, key_file=str(new)).stdout)
    assert after["master_kid"] == rotated["master_kid"] != shown["master_kid"]
    assert {k["master_kid"] for k in after["keys"]} == {rotated["master_kid"]}
    text = tds("keys", "data", home=home.root, database_url=home.database_url,
               key_file=str(new)).stdout
    assert "2 live data key(s)" in text and "grant" in text
