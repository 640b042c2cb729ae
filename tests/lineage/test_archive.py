"""Retention: months sealed with a signed manifest; only expired, archived events purged; the
ledger still verifies after a purge."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lineage import LedgerError, append, archive, ledger, verify_ledger
from policies import Actor, Role
from tests.helpers import refused

ALICE = Actor(1, "alice", Role.ADMIN)
NOW = dt.datetime(2026, 11, 25, 12, 0)


def events_at(home, monkeypatch, day: str, count: int) -> None:
    """Append events as if it were ``day`` (the ledger stamps events with the clock)."""
    stamps = iter(f"{day}T10:00:{i:02d}.000000Z" for i in range(count * 2))
    monkeypatch.setattr(ledger, "now_iso", lambda: next(stamps))
    for i in range(count):
        with home.store.transaction() as s:
            append(s, ALICE, "test.event", f"thing:{day}:{i}", {"n": i})
    monkeypatch.undo()


def verify(home):
    with home.store.read() as s:
        return verify_ledger(s, home.genesis_public_key, home.witness_path, home.origin)


def seal(home, before: str):
    with home.store.transaction() as s:
        return archive.archive(s, ALICE, home.root / "ledger", home.signer, home.origin, before,
                               NOW)


def purge(home, before: str):
    with home.store.transaction() as s:
        return archive.purge(s, ALICE, before, home.policy.retention_years, NOW)


def test_whole_months_are_sealed_with_a_signed_manifest(home, monkeypatch):
    events_at(home, monkeypatch, "2019-01-15", 3)
    events_at(home, monkeypatch, "2019-02-10", 2)
    sealed = seal(home, "2019-03")
    assert [(m["month"], m["first_seq"], m["last_seq"]) for m in sealed] == [
        ("2019-01", 1, 3), ("2019-02", 4, 5)]
    path = home.root / "ledger" / sealed[0]["path"]
    table = pq.read_table(path)
    assert table.column("seq").to_pylist() == [1, 2, 3]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sealed[0]["sha256"]
    manifest = json.loads(path.with_suffix(".manifest.json").read_text())
    assert manifest["manifest"]["root"] == sealed[0]["root"]
    assert seal(home, "2019-03") == []  # nothing twice
    assert verify(home).valid


def test_the_current_month_cannot_be_sealed(home, monkeypatch):
    with refused(home, "only whole months"):
        seal(home, "2026-12")
    with refused(home, "written YYYY-MM"):
        seal(home, "2019-13")


def test_expired_archived_events_are_purged_and_the_ledger_still_verifies(home, monkeypatch):
    events_at(home, monkeypatch, "2019-01-15", 4)
    events_at(home, monkeypatch, "2024-06-01", 2)
    seal(home, "2024-07")
    done = purge(home, "2020-01")
    assert done == {"months": ["2019-01"], "events": 4}
    result = verify(home)
    assert result.valid, result.problems
    assert result.purged == 4 and result.events == 2 + 2 + 1  # 2024 events, 2 archive events, purge
    from lineage.proofs import inclusion, verify_inclusion
    with home.store.read() as s:  # proofs of later events still verify against the same tree
        assert verify_inclusion(inclusion(s, 5), [home.public_key]) == []
        # A purged event is proved from its archive file, checked against the kept leaf.
        archived = inclusion(s, 2, archive_dir=home.root / "ledger")
        assert archived["event"]["subject"] == "thing:2019-01-15:1"
        assert verify_inclusion(archived, [home.public_key]) == []
        with pytest.raises(LedgerError):
            inclusion(s, 2)  # without the archive there is nothing to show


def test_young_or_unarchived_events_are_never_purged(home, monkeypatch):
    events_at(home, monkeypatch, "2024-01-10", 2)
    with refused(home, "no archived month"):
        purge(home, "2024-02")
    seal(home, "2024-02")
    with refused(home, "must be kept until 2029-02-01"):
        purge(home, "2024-02")


def test_a_purge_that_removed_more_than_it_logged_is_detected(home, monkeypatch):
    from tests.lineage.test_ledger import tamper
    events_at(home, monkeypatch, "2019-01-15", 3)
    events_at(home, monkeypatch, "2019-02-15", 3)
    seal(home, "2019-03")
    purge(home, "2019-02")
    tamper(home, "DELETE FROM ledger_events WHERE seq = 4")  # an unarchived event
    assert not verify(home).valid


def test_the_database_still_refuses_deletions_outside_a_purge(home, monkeypatch):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    events_at(home, monkeypatch, "2019-01-15", 2)
    with pytest.raises(DBAPIError), home.store.engine.begin() as con:
        con.execute(text("DELETE FROM ledger_events"))


def test_an_edited_archive_file_cannot_prove_a_purged_event(home, monkeypatch):
    from lineage.proofs import inclusion
    events_at(home, monkeypatch, "2019-01-15", 3)
    sealed = seal(home, "2019-02")
    purge(home, "2019-02")
    path = home.root / "ledger" / sealed[0]["path"]
    table = pq.read_table(path)
    edited = table.set_column(table.column_names.index("subject"), "subject",
                              pa.array(["thing:forged"] * table.num_rows))
    pq.write_table(edited, path)
    with home.store.read() as s, pytest.raises(LedgerError, match="does not match the leaf"):
        inclusion(s, 2, archive_dir=home.root / "ledger")
