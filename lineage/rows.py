"""The ledger's hot statements, run on the driver's cursor of the caller's transaction.

Every state change appends, so these statements run on every commit: through SQLAlchemy's
execution path an insert cost 82 us on SQLite against 5 us on the cursor (a fixed cost per
statement, whatever the row). The rows are the tables' own columns (``ledger.LedgerEvent`` and
the rest); the statements are written once here. A driver error is raised as SQLAlchemy's
(``sqlalchemy.exc.DBAPIError.instance``), and a lost connection is dropped from the pool, so
the store handles them as it handles any other statement's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import exc
from sqlalchemy.orm import Session

_SQL = {
    "event": "INSERT INTO ledger_events (seq, time, actor, actor_id, action, subject, payload, "
             "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "node": "INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)",
    "checkpoint": "INSERT INTO ledger_checkpoints (size, head, time, key_id, signature, root, "
                  "origin) VALUES (?, ?, ?, ?, ?, ?, ?)",
    # The head and the tree's right edge in one statement: the perfect subtrees of a tree of
    # n leaves are, for each set bit L of n, the node (L, (n >> L) - 1); each found through
    # the nodes' primary key. Rows: (seq, hash, level, node hash), highest level first; no
    # row for an empty ledger, and a NULL node hash where a node is missing.
    # (The shifts on a 64-bit integer: PostgreSQL shifts a 32-bit one modulo 32.)
    "head": "WITH RECURSIVE head(seq, hash) AS "
            "(SELECT seq, hash FROM ledger_events ORDER BY seq DESC LIMIT 1), "
            "levels(level) AS (SELECT 0 UNION ALL SELECT level + 1 FROM levels WHERE level < 62) "
            "SELECT head.seq, head.hash, levels.level, (SELECT n.hash FROM ledger_nodes n "
            "WHERE n.level = levels.level "
            "AND n.idx = (CAST(head.seq AS BIGINT) >> levels.level) - 1) "
            "FROM head LEFT JOIN levels ON ((CAST(head.seq AS BIGINT) >> levels.level) & 1) = 1 "
            "ORDER BY levels.level DESC",
    "lock": "SELECT pg_advisory_xact_lock(?)",
    "try_lock": "SELECT pg_try_advisory_xact_lock(?)",
    "node_hash": "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?",
    "enqueue": "INSERT INTO ledger_queue (time, actor, actor_id, action, subject, payload) "
               "VALUES (?, ?, ?, ?, ?, ?)",
    "dequeue": "DELETE FROM ledger_queue RETURNING id, actor, actor_id, action, subject, payload",
}
# psycopg takes %s where sqlite3 takes ?; the statements hold no other ? or %.
_FORMAT = {name: sql.replace("?", "%s") for name, sql in _SQL.items()}

EVENT_COLUMNS = ("seq", "time", "actor", "actor_id", "action", "subject", "payload",
                 "prev_hash", "hash")


class Rows:
    """The driver's connection under ``session``'s transaction (it begins it if need be)."""

    def __init__(self, session: Session) -> None:
        self.connection = connection = session.connection()
        self.dialect = connection.dialect
        self.raw = connection.connection.driver_connection
        self.sql = _SQL if self.dialect.name == "sqlite" else _FORMAT

    def send(self, name: str, params: Sequence[Any] = ()) -> Any:
        """Execute without reading: in a :meth:`batch` the statement waits to be sent with the
        others; read its rows from the returned cursor after the batch."""
        sql = self.sql[name]
        with self._errors(sql, params):
            cursor = self.raw.cursor()
            cursor.execute(sql, params)
            return cursor

    def run(self, name: str, params: Sequence[Any] = ()) -> list[tuple]:
        sql = self.sql[name]
        with self._errors(sql, params):
            cursor = self.raw.cursor()
            try:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
            finally:
                cursor.close()

    def many(self, name: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        sql = self.sql[name]
        with self._errors(sql, rows):
            cursor = self.raw.cursor()
            try:
                cursor.executemany(sql, rows)
            finally:
                cursor.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """A context in which PostgreSQL sends the statements in one round trip (a pipeline;
        their errors surface when it ends)."""
        pipeline = self.raw.pipeline() if self.dialect.name == "postgresql" else nullcontext()
        with self._errors("(statements sent together)", ()), pipeline:
            yield

    @contextmanager
    def _errors(self, statement: str, params: Any) -> Iterator[None]:
        dbapi = self.dialect.loaded_dbapi
        try:
            yield
        except dbapi.Error as error:
            # A lost connection leaves the pool, as SQLAlchemy's own execution path does.
            lost = self.dialect.is_disconnect(error, self.raw, None)
            if lost:
                self.connection.invalidate(error)
            raise exc.DBAPIError.instance(statement, params, error, dbapi.Error,
                                          connection_invalidated=lost,
                                          dialect=self.dialect) from error


def event_row(event: dict[str, Any]) -> tuple:
    return tuple(event[c] for c in EVENT_COLUMNS)
