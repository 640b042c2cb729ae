"""Group commit: events queued with their state changes are chained, checkpointed and witnessed
before the state change's caller gets its answer, however many callers write at once."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from lineage import LedgerCheckpoint, LedgerEvent, append, ledger, verify_ledger
from lineage.ledger import ADVISORY_LOCK, Checkpoint, read_witness
from lineage.queue import QUEUE, LedgerQueued
from policies import Actor, Role

ALICE = Actor(1, "alice", Role.ADMIN)


def verify(home):
    with home.store.read() as s:
        return verify_ledger(s, home.genesis_public_key, home.witness_path, home.origin)


def subjects(home) -> list[str]:
    with home.store.read() as s:
        return list(s.scalars(select(LedgerEvent.subject).order_by(LedgerEvent.seq)))


def queued(home) -> int:
    with home.store.read() as s:
        return s.scalar(select(func.count()).select_from(LedgerQueued))


def test_a_caller_gets_its_answer_once_its_event_is_chained_and_witnessed(home):
    with home.store.transaction() as s:
        event = append(s, ALICE, "test.event", "thing:1", {"n": 1})
        assert event.seq is None  # queued until the commit
    assert subjects(home) == ["thing:1"] and queued(home) == 0
    witnessed = read_witness(home.witness_path)[0]
    assert witnessed and witnessed[-1].size == 1
    assert verify(home).valid


def test_a_rolled_back_change_queues_nothing(home):
    try:
        with home.store.transaction() as s:
            append(s, ALICE, "test.event", "thing:gone", {"n": 1})
            raise RuntimeError("the state change fails")
    except RuntimeError:
        pass
    with home.store.transaction() as s:
        append(s, ALICE, "test.event", "thing:kept", {"n": 2})
    assert subjects(home) == ["thing:kept"] and queued(home) == 0


def test_concurrent_writers_share_checkpoints_and_every_event_is_chained_once(home):
    errors = []

    def writer(w: int) -> None:
        try:
            for i in range(15):
                with home.store.transaction() as s:
                    append(s, ALICE, "test.event", f"thing:{w}-{i}", {"n": i})
                    append(s, ALICE, "test.event", f"thing:{w}-{i}-b", {"n": i})
        except Exception as exc:  # reported below, with the thread's own error
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    found = subjects(home)
    assert sorted(found) == sorted({f"thing:{w}-{i}{b}" for w in range(6) for i in range(15)
                                    for b in ("", "-b")})
    # A transaction's events stay in its order.
    assert all(found.index(f"thing:{w}-{i}") < found.index(f"thing:{w}-{i}-b")
               for w in range(6) for i in range(15))
    result = verify(home)
    assert result.valid, result.problems
    assert result.events == 180 and not result.warnings
    with home.store.read() as s:
        assert s.scalar(select(func.count()).select_from(LedgerCheckpoint)) <= 90


def test_events_left_queued_by_a_crash_are_reported_then_chained_by_the_next_write(home):
    # A process that committed its state change and died before its pass: the row waits.
    session = home.store._sessions()
    session.info[QUEUE] = True
    with session.begin():
        append(session, ALICE, "test.event", "thing:orphan", {"n": 1})
    session.close()
    result = verify(home)
    assert result.valid and any("1 event(s) queued since" in w for w in result.warnings)
    with home.store.transaction() as s:
        append(s, ALICE, "test.event", "thing:next", {"n": 2})
    assert subjects(home) == ["thing:orphan", "thing:next"]
    result = verify(home)
    assert result.valid and not result.warnings


def test_an_event_chained_now_has_its_place_in_the_transaction(home):
    with home.store.transaction() as s:
        append(s, ALICE, "test.event", "thing:queued", {"n": 1})
    with home.store.transaction() as s:
        first = append(s, ALICE, "test.event", "thing:now", {"n": 2}, now=True)
        later = append(s, ALICE, "test.event", "thing:after", {"n": 3})
        assert (first.seq, later.seq) == (2, 3)  # the rest of the transaction follows it
    assert subjects(home) == ["thing:queued", "thing:now", "thing:after"]
    assert verify(home).valid


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.booleans(), min_size=1, max_size=4), min_size=1, max_size=6))
def test_any_mix_of_queued_and_chained_events_verifies(home, transactions):
    before = len(subjects(home))
    names = []
    for t, nows in enumerate(transactions):
        with home.store.transaction() as s:
            for e, now in enumerate(nows):
                name = f"thing:{before}-{t}-{e}"
                names.append(name)
                append(s, ALICE, "test.event", name, {"n": e}, now=now)
    assert subjects(home)[before:] == names
    result = verify(home)
    assert result.valid and not result.warnings, result.problems


def test_both_backends_queue_and_a_lone_writer_chains_its_own_events(tmp_path, database_url):
    from service.home import Home

    other = Home(tmp_path / "other", database_url, None)
    other.init()
    with other.store.transaction() as s:
        event = append(s, ALICE, "test.event", "thing:1", {"n": 1})
        assert event.seq is None  # queued until the commit
    assert subjects(other) == ["thing:1"] and queued(other) == 0
    with other.store.read() as s:  # chained in its own transaction: one checkpoint, no pass
        assert s.scalar(select(func.count()).select_from(LedgerCheckpoint)) == 1
    other.store.dispose()


def _sqlite_only(home) -> None:
    if home.store.dialect != "sqlite":
        pytest.skip("SQLite's writers take turns; PostgreSQL's commit side by side")


def _behind(home, body) -> threading.Thread:
    """Start a writer thread running ``body(session)`` and return once it waits for the writer
    lock that this thread holds (``home.store._writing`` counts it)."""
    import time

    before = home.store._writing
    thread = threading.Thread(target=body)
    thread.start()
    deadline = time.monotonic() + 20
    while home.store._writing == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert home.store._writing == before + 1
    return thread


def test_on_sqlite_a_writer_with_others_in_line_queues_and_the_last_chains_for_it(home):
    _sqlite_only(home)

    def last() -> None:
        with home.store.transaction() as s:
            append(s, ALICE, "test.event", "thing:last", {"n": 2})

    with home.store.transaction() as s:
        append(s, ALICE, "test.event", "thing:first", {"n": 1})
        behind = _behind(home, last)
    # Committed with its event queued, and answered only once the last in line chained it.
    assert subjects(home) == ["thing:first", "thing:last"] and queued(home) == 0
    behind.join(20)
    with home.store.read() as s:
        sizes = list(s.scalars(select(LedgerCheckpoint.size)))
    assert sizes == [2]  # one checkpoint for the group
    assert [c.size for c in read_witness(home.witness_path)[0]] == [2]
    assert verify(home).valid


def test_on_sqlite_a_writer_behind_slow_turns_chains_its_own_events(home):
    """Queueing makes a writer wait for those behind it: when turns have been slow lately, it
    chains its own events instead, so its answer does not wait for theirs."""
    _sqlite_only(home)

    def last() -> None:
        with home.store.transaction() as s:
            append(s, ALICE, "test.event", "thing:last", {"n": 2})

    home.store._held = 1.0  # turns have held the write lock for a second lately
    with home.store.transaction() as s:
        append(s, ALICE, "test.event", "thing:first", {"n": 1})
        behind = _behind(home, last)
    behind.join(20)
    assert subjects(home) == ["thing:first", "thing:last"]
    assert [c.size for c in read_witness(home.witness_path)[0]] == [1, 2]
    assert verify(home).valid


def test_on_sqlite_a_queued_writer_chains_itself_when_the_last_in_line_fails(home):
    _sqlite_only(home)

    def failing() -> None:
        with pytest.raises(RuntimeError), home.store.transaction() as s:
            append(s, ALICE, "test.event", "thing:gone", {"n": 2})
            raise RuntimeError("the state change fails")

    with home.store.transaction() as s:
        append(s, ALICE, "test.event", "thing:kept", {"n": 1})
        behind = _behind(home, failing)
    behind.join(20)
    assert subjects(home) == ["thing:kept"] and queued(home) == 0
    assert [c.size for c in read_witness(home.witness_path)[0]] == [1]
    result = verify(home)
    assert result.valid and not result.warnings


def test_on_sqlite_groups_are_bounded_however_many_writers_keep_coming(home, monkeypatch):
    _sqlite_only(home)
    from service import store

    monkeypatch.setattr(store, "GROUP_MAX", 3)
    threads = [threading.Thread(target=lambda w: [_write(home, f"thing:{w}-{i}")
                                                  for i in range(10)], args=(w,))
               for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sizes = [c.size for c in read_witness(home.witness_path)[0]]
    assert sizes[-1] == 60 and len(sizes) >= 20
    assert all(b - a <= 3 for a, b in zip([0, *sizes], sizes, strict=False))
    assert verify(home).valid


def _write(home, subject: str) -> None:
    with home.store.transaction() as s:
        append(s, ALICE, "test.event", subject, {"n": 1})


def checkpoint(size: int) -> Checkpoint:
    """A checkpoint line for the witness file's own tests (never verified)."""
    return Checkpoint(size, "ab" * 32, "2026-12-06T00:00:00.000000Z", "k", "s", "cd" * 32, "o")


def test_threads_share_witness_fsyncs_and_every_line_lands_whole(tmp_path, monkeypatch):
    path = tmp_path / "witness.jsonl"
    syncs = []
    real = ledger.sync_data
    monkeypatch.setattr(ledger, "sync_data", lambda fd: (syncs.append(fd), real(fd)))
    cps = [checkpoint(n) for n in range(1, 201)]
    threads = [threading.Thread(target=lambda part: [ledger.witness(path, c) for c in part],
                                args=(cps[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found, problems = read_witness(path)
    assert not problems and sorted(c.size for c in found) == list(range(1, 201))
    assert 0 < len(syncs) <= 200


def test_a_failed_witness_write_is_retried_by_the_next_writer(tmp_path, monkeypatch):
    path = tmp_path / "witness.jsonl"
    cp = [checkpoint(n) for n in (1, 2)]
    real = ledger._write_durably

    def full(_path, _text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ledger, "_write_durably", full)
    with pytest.raises(OSError):
        ledger.witness(path, cp[0])
    monkeypatch.setattr(ledger, "_write_durably", real)
    ledger.witness(path, cp[1])
    assert [c.size for c in read_witness(path)[0]] == [1, 2]


def test_a_writer_that_finds_the_ledger_busy_commits_queued_and_waits_for_a_pass(home):
    if home.store.dialect != "postgresql":
        pytest.skip("the ledger's lock is PostgreSQL's advisory lock; SQLite has one writer")
    import time

    holder = home.store.engine.connect()  # another process chaining, as far as the lock goes
    held = holder.begin()
    holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK})
    answered = threading.Event()

    def write() -> None:
        with home.store.transaction() as s:
            append(s, ALICE, "test.event", "thing:busy", {"n": 1})
        answered.set()

    writer = threading.Thread(target=write)
    writer.start()
    deadline = time.monotonic() + 20
    while queued(home) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    # Committed with its event queued; no answer until a pass has chained it.
    assert queued(home) == 1 and subjects(home) == [] and not answered.is_set()
    held.rollback()
    holder.close()
    writer.join(20)
    assert answered.is_set() and subjects(home) == ["thing:busy"] and queued(home) == 0
    assert verify(home).valid


def test_a_pass_chains_what_is_queued_and_seals_nothing_when_there_is_nothing(home):
    session = home.store._sessions()
    session.info[QUEUE] = True
    with session.begin():
        append(session, ALICE, "test.event", "thing:a", {"n": 1})
        append(session, ALICE, "test.event", "thing:b", {"n": 2})
    session.close()
    assert home.store.sequence() == 2
    assert home.store.sequence() == 0
    with home.store.read() as s:
        assert s.scalar(select(func.count()).select_from(LedgerCheckpoint)) == 1
    assert subjects(home) == ["thing:a", "thing:b"] and verify(home).valid
