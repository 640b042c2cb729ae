"""Fixtures shared by the suite. TDS_TEST_DATABASE=postgresql runs it on a real PostgreSQL
(127.0.0.1:5432, reached through database `test`), each test in a database of its own, copied
from one migrated for the session and dropped after."""

from __future__ import annotations

import copy
import io
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from accounts.users import add_user
from catalog import applications, datasets
from policies import OPERATOR, Actor
from service import demo_data
from service.home import Home

PG_BASE = os.environ.get("TDS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKEND = os.environ.get("TDS_TEST_DATABASE", "sqlite")
GRANTED = "grant_id"  # a test using this fixture starts from a copy of the granted template


def pytest_collection_modifyitems(config, items):
    """On the PostgreSQL pass, run the tests that reach the store through ``database_url``
    (directly or through ``home``); the others use no database, or SQLite whatever the pass,
    and the SQLite pass has run them already."""
    if BACKEND != "postgresql":
        return
    repeat = pytest.mark.skip(reason="uses no PostgreSQL store: the SQLite pass ran it")
    for item in items:
        if "database_url" not in getattr(item, "fixturenames", ()) and \
                item.get_closest_marker("store") is None:
            item.add_marker(repeat)


def _pg_admin():
    return create_engine(PG_BASE, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def pg_template(tmp_path_factory: pytest.TempPathFactory):
    """A PostgreSQL database migrated once for the session: each test's database is a copy of
    it (``CREATE DATABASE ... TEMPLATE``, about 0.07 s, where migrating an empty one takes
    about 0.5 s). The SQLite pass migrates every test's store from empty."""
    name = f"tds_template_{os.getpid()}"
    admin = _pg_admin()
    with admin.connect() as con:
        con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        con.execute(text(f'CREATE DATABASE "{name}"'))
    made = Home(tmp_path_factory.mktemp("pg-template") / "home",
                make_url(PG_BASE).set(database=name).render_as_string(hide_password=False))
    made.init()
    made.store.dispose()  # a template takes no connections
    yield name
    with admin.connect() as con:
        con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Databases:
    """Test databases copied from the template ahead of use, by a thread of its own, and
    dropped after use the same way. A copy costs the server about half a second (it writes
    the template's ~10 MB to its WAL); made while the previous test runs, it costs a test
    nothing but a queue's get."""

    AHEAD = 2

    def __init__(self, template: str) -> None:
        self.template = template
        self.ready: queue.Queue[str] = queue.Queue()
        self.used: queue.Queue[str] = queue.Queue()
        self.stop = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="tds-test-databases", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        admin = _pg_admin()
        failures = 0
        while not self.stop.is_set():
            try:
                with admin.connect() as con:
                    while not self.used.empty():
                        # FORCE: a test's worker or server killed on purpose may leave a
                        # session behind.
                        con.execute(text(f'DROP DATABASE IF EXISTS "{self.used.queue[0]}" '
                                         f'WITH (FORCE)'))
                        self.used.get()
                    if self.ready.qsize() < self.AHEAD:
                        name = f"t_{os.getpid()}_{uuid.uuid4().hex[:10]}"
                        con.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
                        self.ready.put(name)
                        failures = 0
                        continue
            except Exception as exc:
                failures += 1
                if failures > 120:  # a minute without the server: the next test reports it
                    self.failure = exc
                    break
                self.stop.wait(0.5)
                continue
            self.stop.wait(0.01)
        admin.dispose()

    def take(self) -> str:
        while True:
            try:
                return self.ready.get(timeout=1)
            except queue.Empty:
                if self.failure is not None or not self.thread.is_alive():
                    raise RuntimeError("test databases cannot be made") from self.failure

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        admin = _pg_admin()
        with admin.connect() as con:
            for pending in (self.used, self.ready):
                while not pending.empty():
                    con.execute(text(f'DROP DATABASE IF EXISTS "{pending.get()}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_databases(pg_template: str):
    databases = Databases(pg_template)
    yield databases
    databases.close()


@pytest.fixture
def database_url(request: pytest.FixtureRequest):
    if BACKEND != "postgresql":
        yield None
        return
    # A test with a grant starts from a copy of the granted template (see granted_template).
    databases: Databases = request.getfixturevalue(
        "pg_granted_databases" if GRANTED in request.fixturenames else "pg_databases")
    name = databases.take()
    yield make_url(PG_BASE).set(database=name).render_as_string(hide_password=False)
    databases.used.put(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store migrated once for the session: each test's SQLite home starts from a
    copy of it (migrating an empty store takes about 0.1 s, on every test)."""
    import sqlite3

    made = Home(tmp_path_factory.mktemp("sqlite-template") / "home")
    made.init()
    made.store.dispose()
    path = made.root / "tds.sqlite3"
    with sqlite3.connect(path) as con:  # everything in the main file, no WAL to copy
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def home(tmp_path: Path, database_url: str | None, request: pytest.FixtureRequest) -> Home:
    root = tmp_path / "home"
    if GRANTED in request.fixturenames:
        # The home, its people and the grant as the fixtures below make them, copied.
        shutil.copytree(request.getfixturevalue("granted_template").root, root)
    elif database_url is None:
        root.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("sqlite_template"), root / "tds.sqlite3")
    h = Home(root, database_url, None)
    h.init()
    yield h
    h.store.dispose()
    from sandbox import memory

    memory.forget(h.policy, h.data.root)  # its grants' stages kept in memory (tmpfs)


@dataclass
class People:
    admin: Actor
    provider: Actor
    provider_b: Actor
    merchant: Actor
    merchant_b: Actor
    reviewer: Actor
    reviewer2: Actor
    regulator: Actor
    tokens: dict[str, str]


@pytest.fixture
def people(home: Home, request: pytest.FixtureRequest) -> People:
    if GRANTED in request.fixturenames:
        return copy.deepcopy(request.getfixturevalue("granted_template").people)
    return add_people(home)


def add_people(home: Home) -> People:
    made, tokens = {}, {}
    with home.store.transaction() as s:
        for key, role, org in (("admin", "admin", None), ("provider", "provider", None),
                               ("provider_b", "provider", None),
                               ("merchant", "merchant", "粤数科技"),
                               ("merchant_b", "merchant", "另一家公司"),
                               ("reviewer", "reviewer", "数据管理局"),
                               ("reviewer2", "reviewer", "数据管理局"),
                               ("regulator", "regulator", None)):
            user, tokens[key] = add_user(s, OPERATOR, key, role, org)
            made[key] = user.actor()
    return People(tokens=tokens, **made)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One `tds demo` (SQLite home) for the whole session: tests that only read it share it,
    tests that change it take a copy (``demo_copy``)."""
    home = tmp_path_factory.mktemp("demo") / "home"
    env = {k: v for k, v in os.environ.items()
           if k not in ("TDS_TOKEN", "TDS_DATABASE_URL", "TDS_KEY_PASSPHRASE",
                         "TDS_KEY_FILE")}
    done = subprocess.run([sys.executable, "-m", "service.cli", "demo", "--json"],
                          capture_output=True, text=True, timeout=600, check=False,
                          env={**env, "TDS_HOME": str(home)}, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr
    return home, json.loads(done.stdout)


@pytest.fixture
def demo_copy(demo_run, tmp_path: Path) -> tuple[Path, dict]:
    """A private copy of the session's demo home, with the result's paths pointing into it."""
    source, result = demo_run
    home = tmp_path / "demo-home"
    shutil.copytree(source, home)
    moved = json.loads(json.dumps(result).replace(str(source), str(home)))
    return home, moved


@pytest.fixture(scope="session")
def visits_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "visits.parquet"
    return demo_data.write(demo_data.hospital_visits(400, seed=7), path)


def register(home: Home, actor: Actor, path: Path, name: str = "visits", level: str = "L3",
             attribute: str = "conditional"):
    with home.store.transaction() as s:
        version = datasets.register(s, actor, home.policy, home.data, path,
                                    datasets.Registration(name, "门诊记录", "health", level,
                                                          attribute))
        return datasets.describe(version.dataset, detail=True)


COLUMNS = ["district", "department", "visit_date", "fee", "age"]


def apply(home: Home, merchant: Actor, name: str = "visits", columns=None, months: int = 12,
          scenario: str = "门诊分析", abroad: bool = False, raw_columns=()):
    with home.store.transaction() as s:
        return applications.submit(s, merchant, home.policy, applications.Request(
            scenario, "按区统计门诊量", "卫生规划", "统计表", months, abroad,
            [{"dataset": name, "columns": columns or COLUMNS,
              "raw_columns": list(raw_columns)}])).id


PDF = b"%PDF-1.4\n% an attachment of the tests\n%%EOF\n"
PASS = {"reasonableness": "pass", "compliance": "pass", "security": "pass"}


def first_level(home: Home, app_id: int, attach: bool = True, check: bool = True) -> None:
    """The first level of an application's review: its merchant files the required materials
    and each listed dataset's providing department agrees to its part."""
    from accounts.users import User
    from catalog import reviews
    from catalog.models import Application

    with home.store.transaction() as s:
        app = s.get(Application, app_id)
        merchant = s.get(User, app.merchant_id)
        if attach:
            for kind in home.policy.applications.required_attachments:
                reviews.attach(s, merchant.actor(), home.policy, home.data, app, kind,
                               f"{kind}.pdf", io.BytesIO(PDF))
        for part in app.checks if check else ():
            if part.verdict == "pending":
                provider = s.get(User, part.dataset.provider_id)
                reviews.check(s, provider.actor(), home.policy, app, part.dataset.name,
                              "agree", PASS, "")


def approve(home: Home, reviewer: Actor, app_id: int, comment: str = "同意",
            accept: bool = True):
    """Both levels of review: the first (:func:`first_level`), then ``reviewer`` approves, and
    (``accept``) the merchant accepts the grant's operation agreement. Returns the
    application."""
    from accounts.users import User

    first_level(home, app_id)
    with home.store.transaction() as s:
        app = applications.decide(s, reviewer, home.policy, app_id, True, comment, PASS)
    if accept:
        with home.store.transaction() as s:
            merchant = s.get(User, app.merchant_id).actor()
            applications.accept_agreement(s, merchant, app.grant.id)
    return app


@dataclass(frozen=True)
class Granted:
    """A home where the people exist and the merchant holds a grant of the visits (the state
    every test with ``grant_id`` starts from), made once per session: each such test copies
    its directory (and, on PostgreSQL, its database) instead of making it again (~1.5 s)."""

    root: Path
    database: str | None
    people: People
    grant_id: int


def make_grant(home: Home, people: People, visits_file: Path) -> int:
    register(home, people.provider, visits_file)
    app_id = apply(home, people.merchant)
    return approve(home, people.reviewer, app_id).grant.id


@pytest.fixture(scope="session")
def granted_template(tmp_path_factory: pytest.TempPathFactory, visits_file: Path,
                     request: pytest.FixtureRequest) -> Granted:
    import sqlite3

    root = tmp_path_factory.mktemp("granted-template") / "home"
    database = url = None
    if BACKEND == "postgresql":
        database = f"tds_granted_{os.getpid()}"
        admin = _pg_admin()
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            con.execute(text(f'CREATE DATABASE "{database}" TEMPLATE '
                             f'"{request.getfixturevalue("pg_template")}"'))
        url = make_url(PG_BASE).set(database=database).render_as_string(hide_password=False)
    else:
        root.mkdir(parents=True)
        shutil.copyfile(request.getfixturevalue("sqlite_template"), root / "tds.sqlite3")
    made = Home(root, url, None)
    made.init()
    people = add_people(made)
    grant = make_grant(made, people, visits_file)
    made.store.dispose()  # a template takes no connections
    if url is None:
        with sqlite3.connect(root / "tds.sqlite3") as con:  # one file to copy, no WAL
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    yield Granted(root, database, people, grant)
    if database is not None:
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_granted_databases(granted_template: Granted):
    databases = Databases(granted_template.database)
    yield databases
    databases.close()


@pytest.fixture
def grant_id(home: Home, people: People, request: pytest.FixtureRequest) -> int:
    return request.getfixturevalue("granted_template").grant_id


@pytest.fixture(scope="session")
def s3_server():
    """An S3-compatible object store on loopback: moto's server, standing in for the object
    storage (MinIO, Ceph, a cloud's S3) a deployment runs outside the product. Yields the
    endpoint (host:port)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


@pytest.fixture
def s3_uri(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A ``TDS_STORAGE`` URI for a new, empty bucket of the test's own."""
    import pyarrow.fs as pafs

    for name, value in (("AWS_ACCESS_KEY_ID", "tds-test"), ("AWS_SECRET_ACCESS_KEY", "secret"),
                        ("AWS_EC2_METADATA_DISABLED", "true")):
        monkeypatch.setenv(name, value)
    bucket = f"tds-{uuid.uuid4().hex[:12]}"
    pafs.S3FileSystem(endpoint_override=s3_server, scheme="http", region="us-east-1",
                      allow_bucket_creation=True).create_dir(bucket)
    return f"s3://{bucket}/platform?endpoint_override={s3_server}&scheme=http&region=us-east-1"
