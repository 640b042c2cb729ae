"""The store's pooled PostgreSQL connections: cut ones are replaced without manual steps."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.exc import OperationalError

from accounts.users import User
from service import store as store_module
from service.home import Home
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="pooled PostgreSQL connections")


def cut_connections(database_url: str) -> int:
    """End every server session of the database, as a server restart or a proxy would."""
    name = make_url(database_url).database
    admin = create_engine(make_url(database_url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        cut = con.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE datname = :name AND pid <> pg_backend_pid()"),
                          {"name": name}).scalar_one()
    admin.dispose()
    return cut


def users(home: Home) -> list[str]:
    with home.store.read() as session:
        return list(session.scalars(select(User.name).order_by(User.name)))


def test_a_connection_cut_while_idle_is_replaced_before_use(tmp_path, database_url, monkeypatch):
    monkeypatch.setattr(store_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    home = Home(tmp_path / "home", database_url, None)
    home.init()
    try:
        before = users(home)
        assert cut_connections(database_url) >= 1
        assert users(home) == before, "the cut connection was pinged and replaced"
    finally:
        home.store.dispose()


def test_a_connection_cut_while_busy_fails_once_and_the_pool_recovers(tmp_path, database_url,
                                                                       monkeypatch):
    monkeypatch.setattr(store_module, "PING_AFTER_IDLE_SECONDS", 3600.0)  # never idle enough
    home = Home(tmp_path / "home", database_url, None)
    home.init()
    try:
        before = users(home)
        assert cut_connections(database_url) >= 1
        # A busy connection is not pinged (that would cost every API request a round trip):
        # its query fails, clearly, and the pool is renewed.
        with pytest.raises(OperationalError) as failure:
            users(home)
        assert failure.value.connection_invalidated
        assert users(home) == before
    finally:
        home.store.dispose()


def test_an_autocommit_read_runs_outside_a_transaction(home):
    """Hot reads (the token check of every API request) save the BEGIN and ROLLBACK round trips."""
    def in_one_transaction(**options) -> bool:
        with home.store.read(**options) as session:
            session.execute(text("SELECT pg_sleep(0.01)"))
            # now() is when the transaction began: in a transaction, before this statement.
            return not session.scalar(text("SELECT now() = statement_timestamp()"))

    assert in_one_transaction()
    assert not in_one_transaction(autocommit=True)
