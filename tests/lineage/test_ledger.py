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
        return verify_ledger(s, home.genesis_public_key, home.witness_path, home.origin)


def tamper(home, *statements: str) -> None:
    """Act as someone who controls the database: lift the append-only guard, then edit."""
    with home.store.engine.begin() as con:
        for table in ("ledger_events", "ledger_checkpoints", "ledger_nodes"):
            if home.store.dialect == "postgresql":
                con.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            else:
                for operation in ("update", "delete"):
                    con.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{operation}"))
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
    tamper(home, "DELETE FROM ledger_events", "DELETE FROM ledger_checkpoints",
           "DELETE FROM ledger_nodes")
    home.witness_path.unlink()


# -- Merkle tree, proofs, checkpoints and keys -----------------------------------------------

def problems(home) -> list[str]:
    result = verify(home)
    assert not result.valid
    return result.problems


def signed_checkpoint(signer, **fields) -> dict:
    from lineage.ledger import checkpoint_bytes
    cp = {"size": 1, "head": "00" * 32, "time": "2026-01-01T00:00:00.000000Z", "root": "11" * 32,
          "origin": "", **fields}
    cp["key_id"] = signer.key_id
    cp["signature"] = signer.sign(checkpoint_bytes(cp["size"], cp["head"], cp["time"],
                                                   cp["root"], cp["origin"]))
    return cp


def test_checkpoints_carry_the_merkle_root_and_origin(home):
    fill(home, 3)
    from lineage.ledger import LedgerCheckpoint
    with home.store.read() as s:
        last = s.query(LedgerCheckpoint).order_by(LedgerCheckpoint.id.desc()).first().checkpoint()
    assert last.size == 3 and len(last.root) == 64 and last.origin == home.origin
    result = verify(home)
    assert result.valid and result.root == last.root


def test_an_inclusion_proof_convinces_an_outsider_and_a_forged_one_does_not(home):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from lineage.proofs import inclusion, verify_inclusion
    from lineage.signing import Signer
    fill(home, 6)
    with home.store.read() as s:
        document = json.loads(json.dumps(inclusion(s, 4)))  # as it travels: plain JSON
    assert document["tree_size"] == 6 and verify_inclusion(document, [home.public_key]) == []
    forged = json.loads(json.dumps(document))
    forged["event"]["payload"]["n"] = 7
    assert verify_inclusion(forged, [home.public_key])
    stranger = Signer(Ed25519PrivateKey.generate()).public
    assert "not signed by a trusted" in " ".join(verify_inclusion(document, [stranger]))
    shifted = json.loads(json.dumps(document)) | {"leaf_index": 2}
    assert verify_inclusion(shifted, [home.public_key])


def test_proofs_of_the_first_and_the_last_event_and_unknown_events(home):
    from lineage.errors import LedgerError
    from lineage.proofs import consistency, inclusion, verify_inclusion
    fill(home, 1)
    with home.store.read() as s:
        assert verify_inclusion(inclusion(s, 1), [home.public_key]) == []  # size 1: no hashes
    fill(home, 7)
    with home.store.read() as s:
        assert verify_inclusion(inclusion(s, 8), [home.public_key]) == []
        assert consistency(s, 1)["valid"] and consistency(s, 4, 8)["valid"]
        with pytest.raises(LedgerError):
            inclusion(s, 9)


def test_a_changed_merkle_node_is_detected(home):
    fill(home, 4)
    tamper(home, "UPDATE ledger_nodes SET hash = '" + "ab" * 32 + "' WHERE level = 1 AND idx = 0")
    assert any("tree nodes at level 1 differ" in p for p in problems(home))


def test_an_event_inserted_after_the_last_checkpoint_is_detected(home):
    """Someone with the database appends a well-formed event (right hash, chain and leaf) but
    cannot sign a checkpoint for it."""
    import hashlib

    from lineage import merkle
    from lineage.canonical import canonical_bytes
    fill(home, 3)
    with home.store.read() as s:
        head = s.execute(text("SELECT hash FROM ledger_events WHERE seq = 3")).scalar()
    body = {"seq": 4, "time": "2026-11-25T00:00:00.000000Z", "actor": "alice", "actor_id": 1,
            "action": "test.event", "subject": "thing:forged", "payload": {}}
    data = canonical_bytes(body)
    digest = hashlib.sha256(bytes.fromhex(head) + data).hexdigest()
    leaf = merkle.leaf_hash(data).hex()
    tamper(home, "INSERT INTO ledger_events (seq, time, actor, actor_id, action, subject, "
                 f"payload, prev_hash, hash) VALUES (4, '{body['time']}', 'alice', 1, "
                 f"'test.event', 'thing:forged', '{{}}', '{head}', '{digest}')",
           f"INSERT INTO ledger_nodes (level, idx, hash) VALUES (0, 3, '{leaf}')")
    assert any("covered by no signed checkpoint" in p for p in problems(home))


def test_a_rollback_of_the_whole_database_is_detected_by_the_witness(home):
    fill(home, 3)
    tamper(home, "DELETE FROM ledger_events WHERE seq > 1",
           "DELETE FROM ledger_checkpoints WHERE size > 1",
           "DELETE FROM ledger_nodes WHERE level > 0 OR idx > 0")
    found = problems(home)
    assert any("truncated" in p for p in found)
    assert any("missing from the database" in p for p in found)


def test_two_roots_signed_for_one_size_are_detected(home):
    fill(home, 2)
    with home.witness_path.open("a") as out:  # a forked log, signed with the platform key
        out.write(json.dumps(signed_checkpoint(home.signer, size=2, origin=home.origin)) + "\n")
    assert any("two different roots" in p for p in problems(home))


def test_a_checkpoint_signed_by_an_unknown_key_is_detected(home):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from lineage.signing import Signer
    fill(home, 2)
    with home.witness_path.open("a") as out:
        out.write(json.dumps(signed_checkpoint(Signer(Ed25519PrivateKey.generate()), size=2,
                                               origin=home.origin)) + "\n")
    assert any("bad signature or a key not valid" in p for p in problems(home))


def test_a_checkpoint_that_lost_its_witness_line_only_warns(home):
    """A crash between the commit and the witness write: the database is ahead, not wrong."""
    fill(home, 3)
    lines = home.witness_path.read_text().splitlines()
    home.witness_path.write_text("\n".join(lines[:-1]) + "\n")
    result = verify(home)
    assert result.valid and any("not in the witness file" in w for w in result.warnings)


def test_key_rotation_keeps_old_checkpoints_valid_and_limits_each_key_to_its_range(home):
    from policies import OPERATOR
    fill(home, 3)
    old = home.signer
    rotated = home.rotate_key(OPERATOR)
    assert rotated["old_key_id"] == old.key_id != rotated["new_key_id"] == home.signer.key_id
    fill(home, 2)
    result = verify(home)
    assert result.valid, result.problems
    assert [(k["key_id"], k["from_size"]) for k in result.keys] == [
        (old.key_id, 0), (rotated["new_key_id"], rotated["seq"])]
    assert not (home.keys_dir / "pending").exists()
    assert (home.keys_dir / "retired" / f"{old.key_id}.pub.pem").exists()
    # The retired key may no longer sign: a checkpoint it signs after its range is refused.
    with home.witness_path.open("a") as out:
        out.write(json.dumps(signed_checkpoint(old, size=5, origin=home.origin)) + "\n")
    assert any("key not valid for its size" in p for p in problems(home))


def test_a_rotation_the_old_key_did_not_sign_is_detected(home):
    from policies import OPERATOR
    fill(home, 2)
    seq = home.rotate_key(OPERATOR)["seq"]
    tamper(home, f"UPDATE ledger_events SET payload = replace(payload, '\"signature\":\"', "
                 f"'\"signature\":\"A') WHERE seq = {seq}")
    assert problems(home)


def test_a_process_killed_while_appending_leaves_a_valid_ledger(home):
    """kill -9 a writer in the middle of its stream of transactions."""
    import os
    import signal
    import subprocess
    import sys
    import time

    program = """
import sys
from pathlib import Path
from service.home import Home
from lineage import append
from lineage.events import Payload, event
from policies import Actor, Role
class Counted(Payload):
    n: int
event("test.event", "thing", "an event of the tests", Counted)
home = Home(Path(sys.argv[1]), sys.argv[2] or None)
actor = Actor(1, "writer", Role.ADMIN)
print("ready", flush=True)
i = 0
while True:
    with home.store.transaction() as s:
        for j in range(3):
            append(s, actor, "test.event", f"thing:{i}:{j}", {"n": i})
    i += 1
"""
    writer = subprocess.Popen([sys.executable, "-c", program, str(home.root),
                               home.database_url or ""], stdout=subprocess.PIPE, text=True,
                              cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert writer.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    result = verify(home)
    assert result.valid, result.problems
    assert result.events >= 3 and result.events % 3 == 0  # whole transactions only
    fill(home, 1)  # and the ledger goes on
    assert verify(home).valid


def test_concurrent_writers_of_one_process_all_commit_and_the_witness_keeps_commit_order(home):
    """Threads of one server writing at once (API requests and the worker pool): every
    transaction commits and the ledger verifies. On SQLite they queue in the process (not in
    the database's busy loop) and the last in line chains for the others, so the witness lists
    the groups' checkpoints in commit order; on PostgreSQL they commit in parallel and share
    sequencer passes, and the verifier needs neither a checkpoint per transaction nor their
    order."""
    import threading
    import time

    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                with home.store.transaction() as s:
                    append(s, ALICE, "test.event", f"thing:{n}:{i}", {"n": n, "i": i})
        except BaseException as exc:  # collected: a thread's exception is otherwise lost
            failures.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert time.monotonic() - started < 60
    result = verify(home)
    assert result.valid and not result.warnings, (result.problems, result.warnings)
    assert result.events == 8 * 15
    sizes = [json.loads(line)["size"] for line in home.witness_path.read_text().splitlines()]
    if home.store.dialect == "sqlite":  # a checkpoint per group, in commit order
        assert sizes == sorted(set(sizes)) and sizes[-1] == 8 * 15
    else:  # a checkpoint per sequencer pass: passes chain what several transactions queued
        assert len(set(sizes)) == len(sizes) and max(sizes) == 8 * 15


def test_sqlite_commits_are_synced_before_the_witness_holds_their_checkpoints(home, monkeypatch):
    """SQLite commits to its write-ahead log without syncing it: the log is synced before the
    witness gets the checkpoints, once for every thread that committed meanwhile, so a crash
    never leaves the witness ahead of the database (which verification reports as tampering)."""
    if home.store.dialect != "sqlite":
        pytest.skip("a PostgreSQL commit is durable when it returns")
    import os
    import threading

    from lineage import ledger

    synced: list[str] = []
    real = ledger.sync_data
    monkeypatch.setattr(ledger, "sync_data",
                        lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real(fd)))
    fill(home, 1)
    assert [os.path.basename(p) for p in synced] == ["tds.sqlite3-wal", home.witness_path.name]

    synced.clear()
    threads = [threading.Thread(target=fill, args=(home, 10)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = [os.path.basename(p) for p in synced]
    # Pairs, the log first; at most one pair per transaction (threads share them).
    assert names[0::2] == ["tds.sqlite3-wal"] * (len(names) // 2)
    assert names[1::2] == [home.witness_path.name] * (len(names) // 2)
    assert 0 < len(names) // 2 <= 60
    assert verify(home).valid


def test_a_failed_ledger_statement_is_the_stores_error_and_changes_nothing(home):
    """The ledger's statements run on the driver's cursor; their errors still reach the caller
    as the store's own (a conflict here), and the transaction rolls back whole."""
    from accounts.users import User
    from service.errors import Conflict

    fill(home, 3)
    # A stray node where the next event's leaf goes: its insert conflicts.
    with home.store.engine.begin() as con:
        con.exec_driver_sql("INSERT INTO ledger_nodes (level, idx, hash) VALUES (0, 3, 'x')")
    with pytest.raises(Conflict), home.store.transaction() as s:
        s.add(User(name="mallory", role="merchant", token_hash="0" * 64))
        append(s, ALICE, "test.event", "thing:3", {"n": 3}, now=True)
    with home.store.read() as s:
        assert s.scalar(text("SELECT count(*) FROM service_users WHERE name = 'mallory'")) == 0
        assert s.scalar(text("SELECT max(seq) FROM ledger_events")) == 3
