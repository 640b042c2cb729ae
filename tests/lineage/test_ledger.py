"""The ledger detects every kind of tampering, and the database refuses edits."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lineage import append, verify_ledger
from policies import Actor, Role

ALICE = Actor(1, "alice", Role.ADMIN)


def fill(home, count: int) -> None:
    for i in range(count):
        with home.store.transaction() as s:
            append(s, ALICE, "test.event", f"thing:{i}", {"n": i, "note": "数据"})


def verify(home):
    with home.store.read() as s:
        return verify_ledger(s, home.public_key, home.witness_path)


def tamper(home, *statements: str) -> None:
    """Act as someone who controls the database: lift the append-only guard, then edit."""
    with home.store.engine.begin() as con:
        if home.store.dialect == "postgresql":
            con.execute(text("ALTER TABLE ledger_events DISABLE TRIGGER USER"))
            con.execute(text("ALTER TABLE ledger_checkpoints DISABLE TRIGGER USER"))
        else:
            for name in ("ledger_events_no_update", "ledger_events_no_delete",
                         "ledger_checkpoints_no_update", "ledger_checkpoints_no_delete"):
                con.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        for statement in statements:
            con.exec_driver_sql(statement)


def test_an_untouched_ledger_verifies(home):
    fill(home, 5)
    result = verify(home)
    assert result.valid, result.problems
    assert result.events == 5
    assert result.checkpoints == 10  # each commit: one in the database, one in the witness file


def test_edited_payload_is_detected(home):
    fill(home, 5)
    tamper(home, "UPDATE ledger_events SET payload = '{\"n\":99}' WHERE seq = 3")
    result = verify(home)
    assert not result.valid
    assert any("event 3 was modified" in p for p in result.problems)


def test_deleted_middle_event_is_detected(home):
    fill(home, 5)
    tamper(home, "DELETE FROM ledger_events WHERE seq = 3")
    result = verify(home)
    assert not result.valid
    assert any("event 3 is missing" in p for p in result.problems)


def test_deleted_last_event_is_detected_even_with_its_checkpoint(home):
    fill(home, 5)
    tamper(home, "DELETE FROM ledger_events WHERE seq = 5",
           "DELETE FROM ledger_checkpoints WHERE size = 5")
    result = verify(home)
    assert not result.valid
    assert any("truncated" in p for p in result.problems)


def test_swapped_events_are_detected(home):
    fill(home, 5)
    tamper(home, "UPDATE ledger_events SET seq = -1 WHERE seq = 2",
           "UPDATE ledger_events SET seq = 2 WHERE seq = 3",
           "UPDATE ledger_events SET seq = 3 WHERE seq = -1")
    result = verify(home)
    assert not result.valid
    assert any("does not link" in p or "modified" in p for p in result.problems)


def test_forged_witness_line_is_detected(home):
    fill(home, 2)
    lines = home.witness_path.read_text().splitlines()
    forged = json.loads(lines[-1]) | {"head": "ab" * 32}
    home.witness_path.write_text("\n".join([*lines, json.dumps(forged)]) + "\n")
    result = verify(home)
    assert not result.valid
    assert any("bad signature" in p for p in result.problems)


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_events SET action = 'x'",
    "DELETE FROM ledger_events",
    "UPDATE ledger_checkpoints SET head = 'x'",
    "DELETE FROM ledger_checkpoints",
])
def test_the_database_refuses_edits_and_deletions(home, statement):
    fill(home, 2)
    with pytest.raises(DBAPIError), home.store.engine.begin() as con:
        con.execute(text(statement))
    assert verify(home).valid


def test_an_event_and_its_change_roll_back_together(home):
    fill(home, 2)
    with pytest.raises(RuntimeError), home.store.transaction() as s:
        append(s, ALICE, "test.event", "thing:x", {})
        raise RuntimeError("the change failed")
    result = verify(home)
    assert result.valid and result.events == 2


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(2, 8), data=st.data())
def test_any_single_edit_is_detected(home, count, data):
    with home.store.read() as s:
        start = s.execute(text("SELECT count(*) FROM ledger_events")).scalar()
    fill(home, count)
    seq = data.draw(st.integers(start + 1, start + count))
    column = data.draw(st.sampled_from(["actor", "action", "subject", "time", "payload"]))
    value = "'{}'" if column == "payload" else "'forged'"
    tamper(home, f"UPDATE ledger_events SET {column} = {value} WHERE seq = {seq}")
    assert not verify(home).valid
    # restore a verifiable ledger for the next example: fresh home state is not shared
    tamper(home, "DELETE FROM ledger_events", "DELETE FROM ledger_checkpoints")
    home.witness_path.unlink()
