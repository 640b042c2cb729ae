"""The attack battery: every way out of the sandbox is refused with a clear message and leaves
no trace. Three layers are tested on their own: the statement gate (at submit), the locked
DuckDB connection without the gate in front of it, and the limits of the job process."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox import engine, gate, jobs, runner, spec
from sandbox.errors import QueryRefused
from tests.helpers import refused, set_policy, snapshot

# -- 1. The gate refuses at submit: nothing is queued, logged or written. ------------------

GATE = [
    # reading host files
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv()"),
    ("SELECT * FROM read_csv_auto('/etc/passwd')", "read_csv_auto()"),
    ("SELECT * FROM read_text('/etc/passwd')", "read_text()"),
    ("SELECT * FROM read_blob('/etc/passwd')", "read_blob()"),
    ("SELECT * FROM glob('/*')", "glob()"),
    ("SELECT * FROM parquet_scan('/tmp/x.parquet')", "parquet_scan()"),
    ("SELECT * FROM read_parquet('/tmp/x.parquet')", "read_parquet()"),
    ("SELECT * FROM read_json('/tmp/x.json')", "read_json()"),
    ("SELECT * FROM read_duckdb('/tmp/x.duckdb')", "read_duckdb()"),
    ("SELECT * FROM sniff_csv('/etc/passwd')", "sniff_csv()"),
    ("SELECT * FROM parquet_metadata('/tmp/x.parquet')", "parquet_metadata()"),
    ("SELECT * FROM 'file.parquet'", "no table 'file.parquet'"),
    ("SELECT * FROM '/proc/self/environ'", "no table '/proc/self/environ'"),
    ("SELECT * FROM read_text('/proc/self/environ')", "read_text()"),
    ("SELECT * FROM visits WHERE district IN (SELECT content FROM read_text('/etc/hosts'))",
     "read_text()"),
    # writing, attaching, exporting
    ("COPY visits TO '/tmp/out.csv'", "only SELECT"),
    ("COPY (SELECT 1) TO '/tmp/out.parquet' (FORMAT parquet)", "only SELECT"),
    ("EXPORT DATABASE '/tmp/exported'", "only SELECT"),
    ("ATTACH '/tmp/x.db' AS x", "only SELECT"),
    ("DETACH granted", "only SELECT"),
    ("CREATE TABLE t AS SELECT * FROM visits", "only SELECT"),
    ("INSERT INTO visits VALUES (1)", "only SELECT"),
    ("UPDATE visits SET fee = 0", "only SELECT"),
    ("DELETE FROM visits", "only SELECT"),
    ("CREATE MACRO m(x) AS x", "only SELECT"),
    ("CHECKPOINT", "only SELECT"),
    # extensions
    ("INSTALL httpfs", "only SELECT"),
    ("FORCE INSTALL httpfs FROM 'http://example.org'", "only SELECT"),
    ("LOAD httpfs", "only SELECT"),
    ("LOAD '/tmp/evil.duckdb_extension'", "only SELECT"),
    # settings
    ("SET threads = 64", "only SELECT"),
    ("SET GLOBAL enable_external_access = true", "only SELECT"),
    ("SET memory_limit = '100GB'", "only SELECT"),
    ("RESET lock_configuration", "only SELECT"),
    ("RESET ALL", "does not parse"),
    ("PRAGMA enable_profiling", "only SELECT"),
    ("PRAGMA database_list", "only SELECT"),
    ("USE granted", "only SELECT"),
    ("CALL duckdb_settings()", "only SELECT"),
    # secrets
    ("CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')", "only SELECT"),
    ("CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')", "only SELECT"),
    ("SELECT * FROM duckdb_secrets()", "duckdb_secrets()"),
    ("SELECT * FROM which_secret('s3://bucket/x', 's3')", "which_secret()"),
    # settings and environment leaks
    ("SELECT getenv('HOME')", "getenv()"),
    ("SELECT current_setting('temp_directory')", "current_setting()"),
    ("SELECT * FROM duckdb_settings()", "duckdb_settings()"),
    ("SELECT * FROM duckdb_databases()", "duckdb_databases()"),
    ("SELECT * FROM duckdb_views()", "duckdb_views()"),
    ("SELECT * FROM duckdb_extensions()", "duckdb_extensions()"),
    ("SELECT * FROM pragma_database_list()", "pragma_database_list()"),
    ("SELECT * FROM information_schema.columns", "information_schema.columns"),
    ("SELECT * FROM pg_catalog.pg_settings", "pg_catalog.pg_settings"),
    ("SELECT * FROM sqlite_master", "no table 'sqlite_master'"),
    ("SELECT * FROM duckdb_tables", "no table 'duckdb_tables'"),
    # ungranted tables: qualified, quoted, look-alike names
    ("SELECT * FROM granted.visits", "granted.visits"),
    ("SELECT * FROM memory.main.visits", "memory.main.visits"),
    ("SELECT * FROM main.visits", "main.visits"),
    ("SELECT * FROM enterprises", "no table 'enterprises'"),
    ('SELECT * FROM "Visits"', "no table 'Visits'"),
    ("SELECT * FROM v\u0456sits", "no table 'v\u0456sits'"),  # Cyrillic i
    ('SELECT * FROM "vis\u200bits"', "no table"),  # zero-width space
    ("SELECT * FROM \uff56\uff49\uff53\uff49\uff54\uff53", "no table"),  # fullwidth
    ('SELECT * FROM U&"vis\\0069ts"', "does not parse"),
    ("SELECT * FROM os", "no table 'os'"),  # a Python variable (replacement scan)
    # SQL given as text
    ("SELECT * FROM query_table('vis' || 'its')", "query_table()"),
    ("SELECT * FROM query('SELECT * FROM visits')", "query()"),
    ("SELECT (SELECT count(*) FROM query_table('visits'))", "query_table()"),
    ("SELECT * FROM json_execute_serialized_sql('{}')", "json_execute_serialized_sql()"),
    ("SELECT * FROM range(3) t(i), LATERAL (SELECT * FROM query('SELECT 1'))", "query()"),
    # several statements and comment tricks
    ("SELECT 1; SELECT 2", "exactly one statement"),
    ("SELECT 1 /* ; */; ATTACH '/tmp/x.db'", "exactly one statement"),
    ("SELECT 1 -- harmless\n; COPY visits TO '/tmp/x.csv'", "exactly one statement"),
    ("/* SELECT */ ATTACH '/tmp/x.db'", "only SELECT"),
    ("SELECT 1\x00; ATTACH '/tmp/x.db'", "NUL character"),
    ("EXPLAIN ANALYZE SELECT * FROM visits", "only SELECT"),
    ("PIVOT visits ON district USING count(*)", "only SELECT"),
    ("SELECT sleep_ms(100000)", "sleep_ms()"),
    # deep expressions
    ("SELECT " + "(" * 400 + "1" + ")" * 400, "nests parentheses 400 deep"),
    ("SELECT " + "[" * 300 + "1" + "]" * 300, "nests parentheses 300 deep"),
    ("SELECT " + " + ".join(["fee"] * 3000) + " AS s FROM visits", "Max expression depth"),
    ("", "one SQL SELECT"),
    ("SELEC district FROM visits", "does not parse"),
]


def test_the_battery_is_large():
    assert len(GATE) + len(RUNTIME) + len(LOCKED) + len(EXHAUSTION) >= 60


@pytest.mark.parametrize("sql,message", GATE, ids=[f"gate{i:02d}" for i in range(len(GATE))])
def test_the_gate_refuses(home, people, grant_id, sql, message):
    for target in ("real", "simulated"):
        with refused(home, re.escape(message)), home.store.transaction() as s:
            jobs.submit(s, people.merchant, home.policy, home.data, grant_id, sql, "out", target)


# -- 2. Past the gate, the job itself fails with DuckDB's reason; no output, nothing outside.

RUNTIME = [
    # Columns the grant leaves out are named as not granted (the catalog lists every column).
    ("SELECT patient_name FROM visits", "column 'patient_name' of visits is not granted"),
    ('SELECT "resident_id" FROM visits', "column 'resident_id' of visits is not granted"),
    ("SELECT visits.mobile FROM visits", "column 'mobile' of visits is not granted"),
    ("SELECT visits.no_such FROM visits", 'does not have a column named "no_such"'),
    ("SELECT COLUMNS(lambda c: c LIKE '%name%') FROM visits", "Binder Error"),
    ("SELECT COLUMNS('diag.*') FROM visits", "No matching columns"),
    ("SELECT * EXCLUDE (address) FROM visits", "address"),
    ("SELECT * FROM visits AT (VERSION => 1)", "Binder Error"),
    ("SELECT fee AS x, age AS x FROM visits", "several columns named 'x'"),
]


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """The temporary folder of this test alone (jobs make theirs there), so what a job leaves
    behind is seen even while other test runs use /tmp."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


@pytest.mark.parametrize("sql,message", RUNTIME, ids=[f"run{i}" for i in range(len(RUNTIME))])
def test_binder_refusals_end_the_job_cleanly(home, people, grant_id, sql, message, private_tmp):
    with home.store.transaction() as s:
        job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id, sql, "o").id
    job = home.run_job(job_id)
    assert job.status == "failed" and message in job.error, job.error
    assert str(home.root) not in job.error
    assert not (home.data.local("workspaces") / str(grant_id) / "outputs").exists()
    assert not list(private_tmp.iterdir())


# -- 3. The locked connection holds on its own, with no gate in front of it. ---------------

LOCKED = [
    ("SELECT * FROM read_text('/etc/passwd')", "disabled by configuration"),
    ("SELECT * FROM read_csv('/etc/passwd')", "disabled by configuration"),
    ("SELECT * FROM glob('/etc/*')", "disabled by configuration"),
    ("SELECT * FROM '/etc/passwd'", ""),
    ("COPY (SELECT 1) TO 'leak.csv'", "disabled by configuration"),
    ("EXPORT DATABASE 'exported'", ""),
    ("ATTACH 'other.db' AS other", "disabled by configuration"),
    ("INSTALL httpfs", ""),
    ("LOAD httpfs", ""),
    ("SET enable_external_access = true", "locked"),
    ("SET threads = 64", "locked"),
    ("SET memory_limit = '100GB'", "locked"),
    ("SET max_execution_time = 0", "locked"),
    ("SET allow_extension_repositories = 'allowed'", "locked"),
    ("RESET lock_configuration", "locked"),
    ("SET python_enable_replacements = true", "locked"),
    ("CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')", ""),
    ("SELECT getenv('HOME')", "getenv"),
    ("SELECT * FROM os", ""),
    ("SELECT patient_name FROM visits", "patient_name"),
    ("SELECT * FROM granted.visits_full", "visits_full"),
]


@pytest.fixture
def locked(tmp_path, visits_file, monkeypatch):
    """A job's locked connection over two granted columns of the visits file."""
    exposure = spec.Exposure("visits", visits_file, ("district", "fee"))
    work = tmp_path / "job"
    work.mkdir()
    monkeypatch.chdir(work)
    stage_file = runner._local_copy(engine.stage(tmp_path / "stage", [exposure], b"k" * 32),
                                    Path("granted.duckdb"))
    settings = {"max_temp_directory_size": "1GB", "memory_limit": "500MB", "threads": 1,
                "max_execution_seconds": 10, "max_expression_depth": 200}
    con = engine.locked_connection([exposure], stage_file, settings, b"k" * 32)
    yield con, work
    con.close()


@pytest.mark.parametrize("sql,message", LOCKED, ids=[f"lock{i:02d}" for i in range(len(LOCKED))])
def test_the_locked_connection_refuses_without_the_gate(locked, sql, message):
    con, work = locked
    before = sorted(p.name for p in work.rglob("*"))
    with pytest.raises(duckdb.Error) as info:
        con.execute(sql).fetchall()
    assert message in str(info.value)
    assert sorted(p.name for p in work.rglob("*")) == before
    assert con.execute("SELECT current_setting('enable_external_access')").fetchone()[0] is False


def test_no_host_path_shows_in_views_or_settings(locked, tmp_path, visits_file):
    con, work = locked
    views = con.execute("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall()
    assert "/" not in repr(views)
    # The only paths DuckDB lists are inside the job's own throwaway directory.
    listed = [str(v) for (v,) in con.execute("SELECT value FROM duckdb_settings()").fetchall()]
    paths = [p.strip(" []") for v in listed for p in v.split(",") if p.strip(" [").startswith("/")]
    assert paths and all(p.startswith(str(work) + "/") for p in paths), paths
    assert not any(str(visits_file) in v or str(tmp_path / "stage") in v for v in listed)
    assert con.execute("SELECT * FROM visits LIMIT 1").description[0][0] == "district"
    assert [d[0] for d in con.execute("SELECT * FROM visits").description] == ["district", "fee"]


def test_the_stage_holds_only_granted_columns(tmp_path, visits_file):
    exposure = spec.Exposure("visits", visits_file, ("district", "fee"))
    stage_file = engine.stage(tmp_path / "stage", [exposure], b"k" * 32)
    con = duckdb.connect(str(stage_file), read_only=True)
    assert [r[0] for r in con.execute("DESCRIBE visits").fetchall()] == ["district", "fee"]
    con.close()


# -- 4. Resource exhaustion ends only the job, with a clear status. -------------------------

EXHAUSTION = [
    ("SELECT sum(a.range * b.range) AS s FROM range(1000000000) a, range(1000000000) b",
     None, None),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) AS n FROM r",
     None, None),
    ("SELECT length(string_agg(repeat('x', 1000000), '')) AS n FROM range(100000)",
     "failed", "memory"),
    ("SELECT repeat('x', 2000000000) AS x", "failed", "memory"),
    ("SELECT list(range) AS l FROM range(2000000000)", None, None),
    ("SELECT count(*) AS n FROM generate_series(1, 100000000000000)", "timed_out", "longer than"),
    # 8,000 output columns: DuckDB's Parquet writer runs out of memory on them; pyarrow's,
    # which writes the outputs of grants encrypted at rest, copes. Either way it ends.
    ("SELECT * FROM (SELECT a.range % 8000 AS k, b.range AS v FROM range(8000) a, "
     "range(100000) b) PIVOT (sum(v) FOR k IN (" + ", ".join(map(str, range(8000))) + "))",
     "ends", None),
]


@pytest.mark.parametrize("sql,status,message", EXHAUSTION,
                         ids=[f"exhaust{i}" for i in range(len(EXHAUSTION))])
def test_resource_exhaustion_ends_only_the_job(home, people, grant_id, sql, status, message,
                                               private_tmp):
    set_policy(home, max_execution_seconds="3", memory_limit='"400MB"',
               address_space_limit='"3GB"', max_result_rows="100000")
    with home.store.transaction() as s:
        job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id, sql, "o").id
    job = home.run_job(job_id, timeout=60)
    assert job.status in ("failed", "timed_out") or status == "ends", (job.status, job.error)
    if status and status != "ends":
        assert job.status == status, job.error
    assert message is None or message in job.error
    assert job.duration_ms < 20_000
    # The platform goes on: the next job of the same workspace runs.
    with home.store.transaction() as s:
        next_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id,
                              "SELECT count(*) AS n FROM visits", "after").id
    assert home.run_job(next_id).status == "succeeded"
    assert snapshot(home)["sandbox_jobs"] == 2
    assert not list(private_tmp.iterdir())
    assert os.environ.get("TDS_HOME") != str(home.root)


def test_the_gate_gives_each_of_many_concurrent_callers_its_own_answer():
    """API requests check their SQL in parallel threads: each gets the parse of its own
    statement (a parser shared between threads mixed them up under load)."""
    import threading

    from policies import load_policy
    from sandbox import gate

    settings = load_policy().sandbox
    tables = [f"t{n}" for n in range(8)]
    wrong: list[str] = []

    def caller(n: int) -> None:
        mine = tables[n]
        for i in range(150):
            try:
                tree = gate.authorize(f"SELECT {i} AS v, count(*) FROM {mine} GROUP BY 1",
                                      set(tables), settings)
                if gate.tables_read(tree) != {mine}:
                    wrong.append(f"{mine}: {gate.tables_read(tree)}")
            except Exception as exc:  # collected: a thread's exception is otherwise lost
                wrong.append(f"{mine}: {exc}")

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not wrong, wrong[:5]


SETTINGS = {"max_sql_length": 100_000, "max_expression_depth": 200}


@pytest.mark.parametrize("sql", [
    # the outer name is out of the CTE's scope: it would read the system view or the table
    # while the recorded sources leave it out
    "SELECT * FROM pg_settings, (WITH pg_settings AS (SELECT 1 AS x) SELECT * FROM pg_settings) q",
    "SELECT * FROM duckdb_tables, (WITH duckdb_tables AS (SELECT 1 AS x) SELECT 1) q",
    "SELECT * FROM visits, (WITH visits AS (SELECT 1 AS x) SELECT * FROM visits) q",
    "WITH VISITS AS (SELECT 1 AS x) SELECT * FROM visits",
    "WITH a AS (SELECT 1 AS x), q AS (WITH a AS (SELECT 2 AS x) SELECT * FROM a) SELECT * FROM q",
])
def test_cte_names_may_not_shadow_tables(sql):
    with pytest.raises(QueryRefused, match="CTE name"):
        gate.authorize(sql, {"visits"}, SETTINGS)


@given(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True))
@settings(max_examples=200, deadline=None)
def test_a_cte_is_refused_exactly_when_its_name_is_taken(name):
    visible = {"visits", "firms"}
    sql = f'WITH "{name}" AS (SELECT 1 AS x) SELECT x FROM "{name}"'
    taken = name in visible or name in gate.system_names()
    try:
        tables = gate.tables_read(gate.authorize(sql, visible, SETTINGS))
    except QueryRefused as exc:
        assert taken, exc
    else:
        assert not taken and tables == set()
