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
from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import lineage
from lineage import Signer
from lineage.queue import CHAINED, QUEUE, QUEUED, chain_held, chain_if_free, sequence
from service.errors import Conflict, ServiceError

log = logging.getLogger(__name__)

DEFER_WITNESS = "tds.defer_witness"  # session.info: leave the witness's ticket to the caller
TICKET = "tds.witness_ticket"
CHAIN_NOW = "tds.chain_now"  # session.info: chain the queue in this transaction (SQLite)


class StoreUnavailable(ServiceError):
    kind = "unavailable"


# A pooled PostgreSQL connection is checked with a round trip only when it has been idle this
# long: one unused for a while may have been cut (a server restart, a proxy's idle timeout),
# while pinging busy ones cost every API request a round trip, and under load the GIL turns
# each round trip into a wait. A busy connection that broke fails its request with "the
# database is unavailable" (HTTP 503, Retry-After), and the pool is renewed at once.
PING_AFTER_IDLE_SECONDS = 1.0
POOL_SIZE = 20
POOL_OVERFLOW = 20
# SQLite: at most this many transactions of a process commit with their events queued before
# one of them chains the queue, however many writers keep coming (a bound on their wait).
GROUP_MAX = 32
# SQLite: a writer queues only while those waiting behind it are expected to hold the write
# lock this long at most, all together (from how long turns took lately): a writer that
# queued waits for them, so behind slow transactions it chains its own events instead.
GROUP_WAIT_SECONDS = 0.02


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
        database = make_url(url).database
        sqlite = make_url(url).get_backend_name() == "sqlite"
        file_database = sqlite and database not in (None, "", ":memory:")
        # PostgreSQL: connections kept open for as many threads as a process runs at once (the
        # API's request threads, a worker's pool); past the pool, each one is opened and closed
        # again for a single transaction, a connection's start-up cost on every request.
        self.engine = create_engine(url) if sqlite else create_engine(
            url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
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
        # SQLite commits to its write-ahead log without syncing it (synchronous=NORMAL); the
        # witness syncs it before it writes the checkpoints of those commits, once for every
        # transaction that committed meanwhile: durable at the cost of one sync per group.
        # A PostgreSQL commit is durable when it returns.
        self._sync = None
        if file_database:
            wal = Path(database + "-wal")
            self._sync = lambda: lineage.sync_file(wal)
        # Group commit of queued ledger events (lineage.queue). PostgreSQL: writers commit side
        # by side, and sequencer passes chain what they queued, one pass at a time in this
        # process; ``_passes`` counts the passes begun. SQLite: writers take turns with the
        # write lock; one that has others waiting behind it queues its events, and the last in
        # line chains the queue in its own transaction (``_chain_in_line``).
        self._sqlite = sqlite
        self._sequencing = threading.Lock()
        self._passing = threading.Condition()  # guards the pass's fields; told when one ends
        self._in_pass = False
        self._passes = 0
        self._ended = 0  # the number of the latest pass that ended
        self._pass_ticket: lineage.Ticket = None  # the witness line of the latest pass
        self._turns = 0  # SQLite: turns taken with this process's writer lock
        self._chained_turn = 0  # the latest turn that chained the queue and committed
        self._pending = 0  # transactions committed with events queued since that turn
        self._held = 0.0  # seconds a turn holds the writer lock, lately (a moving average)
        # PostgreSQL: jobs queued in a transaction are delivered to `tds worker` processes in
        # that transaction (imported here, not on every transaction).
        self._install: Callable[[Session], None] | None = None
        if not sqlite:
            from workers.queue import install

            self._install = install
        # Write transactions open (or waiting for SQLite's writer lock) in this process. A lone
        # one chains its queued events itself; with company, they queue and share a pass.
        self._writing = 0
        self._writers = threading.Condition()  # guards the counts above; told of each change

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
        writer = self._writer
        with self._writers:
            self._writing += 1
        try:
            if writer is not None:
                writer.acquire()
            try:
                session = self._sessions()
                if self._install is not None:
                    self._install(session)
            except BaseException:
                if writer is not None:
                    writer.release()
                raise
        except BaseException:
            self._left()
            raise
        session.info[QUEUE] = True
        ticket = None
        turn = 0
        if writer is not None:
            self._turns += 1  # under the writer lock
            turn = self._turns
            began = time.perf_counter()
        try:
            yield session
            session.flush()
            if self._sqlite:
                self._chain_in_line(session)
            elif self._writing == 1:
                chain_if_free(session)
            checkpoint = lineage.seal(session, self._signer, self._origin)
            session.commit()
            passes_before = self._passes
            # Handed in before the write lock is let go: the witness lists commits in order.
            ticket = lineage.hand_in(self.witness_path, checkpoint) if checkpoint else None
            if self._sqlite:
                if session.info.get(CHAINED):
                    with self._writers:
                        self._chained_turn, self._pending = turn, 0
                        # The latest line: it follows the lines of every earlier chain.
                        self._pass_ticket = ticket or self._pass_ticket
                        self._writers.notify_all()
                elif session.info.get(QUEUED):
                    self._pending += 1
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
            lineage.forget_head(session)
            session.close()
            if writer is not None:
                # A moving average of how long a turn holds the lock (_chain_in_line).
                self._held += (time.perf_counter() - began - self._held) / 8
                # Released before the witness: the threads that commit meanwhile share its
                # sync (lineage.witness), instead of each waiting for the last one's.
                writer.release()
            self._left()
        if session.info.get(DEFER_WITNESS):
            session.info[TICKET] = ticket  # the caller awaits it
        else:
            lineage.await_witness(ticket, sync=self._sync)
        if session.info.get(QUEUED):
            if self._sqlite:
                self._await_chain(turn)
            else:
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

    def _left(self) -> None:
        with self._writers:
            self._writing -= 1
            if self._writing == 0:  # nobody left to chain for those waiting (_await_chain)
                self._writers.notify_all()

    def _chain_in_line(self, session: Session) -> None:
        """SQLite, under the writer lock: chain the queue in this transaction when no other
        writer of this process waits behind it, the group is full, or those behind are slow;
        otherwise leave this transaction's events queued for the last in line."""
        if session.info.get(CHAINED):
            return  # chained in this transaction already (an event appended ``now``)
        if not (session.info.get(QUEUED) or self._pending or session.info.get(CHAIN_NOW)):
            return
        behind = self._writing - 1
        if behind and self._pending + 1 < GROUP_MAX and behind * self._held <= GROUP_WAIT_SECONDS \
                and not session.info.get(CHAIN_NOW):
            return
        chain_held(session)

    def _await_chain(self, turn: int) -> None:
        """SQLite: return once a transaction that took the writer lock after ``turn``'s has
        chained the queue and its checkpoint is witnessed. Those in line behind it do so; if
        none did (the last of them failed, or appended nothing), this thread chains itself."""
        while True:
            with self._writers:
                self._writers.wait_for(
                    lambda: self._chained_turn > turn or self._writing == 0)
                if self._chained_turn > turn:
                    break
            with self._sequencing:  # one such pass at a time
                if self._chained_turn > turn:
                    break
                try:
                    with self.transaction() as session:
                        session.info[CHAIN_NOW] = True
                except Exception:
                    # As a failed PostgreSQL pass: the state change stands, its events wait
                    # for the next chain, and `tds ledger verify` counts them meanwhile.
                    log.exception("chaining queued ledger events failed")
                    return
        lineage.await_witness(self._pass_ticket, sync=self._sync)

    def _sequence(self, passes_before: int) -> None:
        """Chain the events queued by a transaction that committed when ``passes_before``
        passes had begun: done once a pass begun after that commit has ended (it chained them,
        with everything else queued), whichever thread ran it."""
        with self._passing:
            # The waiters of a pass wake together when it ends, and one of those that
            # committed during it begins the next.
            self._passing.wait_for(lambda: self._ended > passes_before or not self._in_pass)
            mine = self._ended <= passes_before
            if mine:
                self._in_pass = True
                self._passes += 1
                number = self._passes
            ticket = self._pass_ticket
        if mine:
            try:
                with self.transaction() as session:
                    # The next pass may begin while this one's checkpoint is synced.
                    session.info[DEFER_WITNESS] = True
                    sequence(session, seal_head=True, signer=self._signer,
                             origin=self._origin)
                ticket = session.info.get(TICKET) or ticket
            except Exception:
                # The state change stands; its events wait for the next pass, and `tds
                # ledger verify` counts them meanwhile.
                log.exception("chaining queued ledger events failed")
            finally:
                with self._passing:
                    # The latest pass's checkpoint: its line follows the earlier passes'.
                    self._pass_ticket = ticket
                    self._ended, self._in_pass = number, False
                    self._passing.notify_all()
        lineage.await_witness(ticket, sync=self._sync)

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
