"""The store: SQLAlchemy engine over SQLite (WAL) or PostgreSQL, migrations, transactions.

:meth:`Store.transaction` is the one way state changes commit: before the commit it seals the
ledger events of the transaction into a signed checkpoint; after it, it appends that checkpoint
to the witness file and runs the domain's after-commit actions; on rollback it undoes files the
domain wrote.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import lineage
from lineage import Signer
from lineage.queue import QUEUE, QUEUED, chain_if_free, sequence
from service.errors import Conflict, ServiceError

log = logging.getLogger(__name__)


class StoreUnavailable(ServiceError):
    kind = "unavailable"


# A pooled PostgreSQL connection is checked with a round trip only when it has been idle this
# long: one unused for a while may have been cut (a server restart, a proxy's idle timeout),
# while pinging busy ones cost every API request a round trip, and under load the GIL turns
# each round trip into a wait. A busy connection that broke fails its request with "the
# database is unavailable" (HTTP 503, Retry-After), and the pool is renewed at once.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine, seconds: float) -> None:
    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record):
        record.info["tds_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy):
        since = record.info.pop("tds_idle_since", None)
        if since is None or time.monotonic() - since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and hands out a fresh one.
            raise DisconnectionError(f"a pooled connection was cut: {exc}") from exc


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        # Let SQLAlchemy issue BEGIN itself (below) instead of pysqlite's deferred BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The wait for a lock first, so the statements below wait as long: opening the WAL
        # waits while another connection recovers or checkpoints it (sqlite3's default: 5 s).
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # IMMEDIATE: take the write lock at the start, so the ledger head read in a transaction
        # is still the head when the transaction appends to it.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("tds_read")
                             else "BEGIN IMMEDIATE")


class Store:
    def __init__(self, url: str, signer: Callable[[], Signer], witness_path: Path,
                 origin: Callable[[], str] = lambda: "tds-ledger",
                 master: Callable[[], Any] | None = None) -> None:
        self.url = url
        self.engine = create_engine(url)
        sqlite = self.engine.dialect.name == "sqlite"
        if sqlite:
            _sqlite_setup(self.engine)  # a local file: nothing to ping
        else:
            _ping_when_idle(self.engine, PING_AFTER_IDLE_SECONDS)
        # Every session carries the way to the master key (vault.keys.MASTER): domain code
        # that holds a session can unwrap the data keys of the files it reads.
        self._sessions = sessionmaker(self.engine, expire_on_commit=False,
                                      info={"tds.master_key": master} if master else None)
        self._reader = self.engine.execution_options(tds_read=True)
        # SQLite's reads are calls in this process, with nothing to save: it keeps its BEGIN.
        self._autocommit = self._reader if sqlite else \
            self.engine.execution_options(tds_read=True, isolation_level="AUTOCOMMIT")
        self._signer = signer
        self._origin = origin
        self.witness_path = witness_path
        # SQLite has one writer at a time, and a writer that finds the lock taken polls for it
        # with sleeps growing to 100 ms. Writers of this process queue here instead, so only
        # writers of other processes ever meet that wait.
        self._writer = threading.RLock() if sqlite else None
        # Group commit of queued ledger events (lineage.queue), where writers can commit side by
        # side: one pass at a time in this process; ``_passes`` counts the passes begun.
        self.group_commit = not sqlite
        self._sequencing = threading.Lock()
        self._passes = 0
        # Write transactions open in this process. A lone one chains its queued events itself
        # when the ledger's lock is free; with company, they queue and share a pass.
        self._writing = 0
        self._writing_lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic)."""
        config = Config()
        config.set_main_option("script_location",
                               str(resources.files("service").joinpath("migrations")))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        if self._writer is None:
            with self._transaction() as session:
                yield session
            return
        with self._writer, self._transaction() as session:
            yield session

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        session = self._sessions()
        if self.dialect == "postgresql":
            # Jobs queued here are delivered to `tds worker` processes in this transaction.
            from workers.queue import install

            install(session)
        if self.group_commit:
            session.info[QUEUE] = True
        checkpoint = None
        with self._writing_lock:
            self._writing += 1
        try:
            yield session
            session.flush()
            if self._writing == 1:
                chain_if_free(session)
            checkpoint = lineage.seal(session, self._signer(), self._origin())
            session.commit()
            passes_before = self._passes
            lineage.committed(session)
        except IntegrityError as exc:
            session.rollback()
            self._undo(session)
            raise Conflict("the change conflicts with existing data (a duplicate?)") from exc
        except OperationalError as exc:
            session.rollback()
            self._undo(session)
            raise StoreUnavailable("the database is unavailable: {orig}", orig=exc.orig) from exc
        except BaseException:
            session.rollback()
            self._undo(session)
            raise
        finally:
            with self._writing_lock:
                self._writing -= 1
            lineage.forget_head(session)
            session.close()
        if checkpoint is not None:
            lineage.witness(self.witness_path, checkpoint)
        if session.info.get(QUEUED):
            self._sequence(passes_before)
        for action in session.info.pop("after_commit", []):
            try:
                action()
            except Exception:  # cleanup after the fact: the commit stands, the log says why
                log.exception("after-commit action failed")
        readers = session.info.pop("after_commit_read", [])
        if readers:
            # Work that needs the committed state, e.g. a proof against the new checkpoint.
            with self.read() as reading:
                for reader in readers:
                    try:
                        reader(reading)
                    except Exception:
                        log.exception("after-commit action failed")

    def _sequence(self, passes_before: int) -> None:
        """Chain the events queued by a transaction that committed when ``passes_before``
        passes had begun: done once a pass begun after that commit has ended (it chained them,
        with everything else queued), whichever thread ran it."""
        with self._sequencing:
            if self._passes > passes_before:
                return
            self._passes += 1
            try:
                self.sequence()
            except Exception:
                # The state change stands; its events wait for the next pass, and `tds ledger
                # verify` counts them meanwhile.
                log.exception("chaining queued ledger events failed")

    def sequence(self) -> int:
        """Chain every queued ledger event now, in one transaction; returns how many."""
        with self.transaction() as session:
            return sequence(session)

    @contextmanager
    def read(self, autocommit: bool = False) -> Iterator[Session]:
        """A session for reading; it never commits. ``autocommit``: for short reads on hot paths
        (the token check of every request, polling a job, browsing the catalog): on PostgreSQL
        they run outside a transaction, without the BEGIN and ROLLBACK round trips. At READ
        COMMITTED each statement sees the latest commits either way; server-side cursors
        (``yield_per``) need the transaction."""
        bind = self._autocommit if autocommit else self._reader
        session = self._sessions(bind=bind)
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @staticmethod
    def _undo(session: Session) -> None:
        for action in reversed(session.info.pop("on_rollback", [])):
            try:
                action()
            except Exception:
                log.exception("rollback action failed")
        session.info.pop("after_commit", None)

    def dispose(self) -> None:
        self.engine.dispose()
