"""The ledger at scale: appends with checkpoints, full verification, inclusion proofs.

    .venv/bin/python bench/ledger.py [--append 100000] [--verify 1000000]
                                     [--processes 2] [--threads 8]
                                     [--database-url postgresql+psycopg://...]

Appends, on SQLite (a fresh home) and, with --database-url, on PostgreSQL (a database the run
creates on that server and drops after). Every transaction is a state change that appends one
event; the transaction returns once its event is chained, covered by a signed checkpoint, the
commit is durable (SQLite's write-ahead log synced) and that checkpoint is synced to the
witness file: durable events. Three shapes:

- one appender, one event per transaction (nothing to group);
- --processes x --threads appenders at once, one event per transaction, as the API's request
  threads append. On PostgreSQL their transactions commit side by side and sequencer passes
  chain what they queued with one checkpoint each; on SQLite a writer with others in line
  behind it queues its event and the last in line chains the group; on both, the threads of
  a process share the syncs of the log and the witness file (group commit). Target >=
  2,000/s. Its peer, run
  right after in the same shape on the same engine: bare transactions that each write one row
  without the ledger (what any state change costs), and the ratio;
- one appender, 100 events per transaction.

Verification recomputes every hash, link, leaf, node, root and signature of a ledger of
``--verify`` events on SQLite (built once, cached in bench/.data/; target <= 10 s). Proofs:
median and worst of 1,000 inclusion proofs of random events against the latest checkpoint
(target <= 10 ms); these have no external peer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import random
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, Text, func, select
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scratch import scratch_database
from lineage import LedgerCheckpoint, append, verify_ledger
from lineage.events import Payload, event
from lineage.proofs import inclusion, verify_inclusion
from policies import Actor, Role
from service.home import Home


class BenchPayload(Payload):
    n: int
    status: str
    rows: int


BENCH_EVENT = event("bench.event", "job", "an event of the ledger benchmark", BenchPayload)
DATA = Path(__file__).parent / ".data"
ACTOR = Actor(1, "bench", Role.ADMIN)


def fill(home: Home, count: int, per_transaction: int, start: int = 0) -> float:
    started = time.perf_counter()
    done = 0
    while done < count:
        batch = min(per_transaction, count - done)
        with home.store.transaction() as session:
            for i in range(batch):
                n = start + done + i
                append(session, ACTOR, BENCH_EVENT, f"job:{n}",
                       {"n": n, "status": "succeeded", "rows": n % 1000})
        done += batch
    return time.perf_counter() - started


PEER_TABLE = Table("bench_peer_rows", MetaData(), Column("id", Integer, primary_key=True),
                   Column("n", Integer), Column("payload", Text))


def bare(home: Home, count: int, start: int, lock: threading.Lock) -> None:
    """The peer: ``count`` transactions of the same engine that write one row each, as the
    product's transactions do, without the ledger (on SQLite serialized in the process, as
    the store serializes its writers, so neither meets SQLite's busy wait more often)."""
    sessions = sessionmaker(home.store.engine)
    guard = lock if home.store.dialect == "sqlite" else contextlib.nullcontext()
    for i in range(count):
        with guard, sessions() as session:
            session.connection().execute(PEER_TABLE.insert(), [{
                "n": start + i,
                "payload": json.dumps({"n": start + i, "rows": 0, "status": "succeeded"})}])
            session.commit()


def _appender(path: Path, url: str | None, start: int, threads: int, each: int, peer: bool,
              go: multiprocessing.Event, done: multiprocessing.Queue) -> None:
    """One process of the concurrent shape: ``threads`` threads, ``each`` transactions each
    (``peer``: the bare transactions instead of ledger appends)."""
    home = Home(path, url)
    with home.store.read() as session:  # connected before the clock starts
        session.connection()
    go.wait()
    lock = threading.Lock()
    workers = [threading.Thread(target=bare, args=(home, each, start + t * each, lock))
               if peer else
               threading.Thread(target=fill, args=(home, each, 1, start + t * each))
               for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    done.put(time.perf_counter())
    home.store.dispose()


def concurrent(path: Path, url: str | None, processes: int, threads: int, each: int,
               peer: bool = False) -> float:
    """Seconds for processes x threads appenders to finish ``each`` one-event transactions."""
    context = multiprocessing.get_context("spawn")
    go, done = context.Event(), context.Queue()
    started = []
    for p in range(processes):
        process = context.Process(target=_appender, args=(
            path, url, 10_000_000 * (p + 1), threads, each, peer, go, done))
        process.start()
        started.append(process)
    time.sleep(3)  # each process imports and connects before the clock starts
    began = time.perf_counter()
    go.set()
    ends = [done.get(timeout=600) for _ in started]
    for process in started:
        process.join()
    return max(ends) - began


def appends(label: str, path: Path, url: str | None, args: argparse.Namespace) -> None:
    shutil.rmtree(path, ignore_errors=True)
    home = Home(path, url)
    home.init()
    single = min(5_000, args.append)
    seconds = fill(home, single, 1)
    print(f"{label}: one appender, one event per transaction: {single / seconds:,.0f} events/s "
          f"({single:,} events, {seconds:.1f} s)")
    # Long enough that start-up and the last stragglers weigh little (runs vary less).
    each = max(1, min(20_000, args.append) // (args.processes * args.threads))
    total = each * args.processes * args.threads
    PEER_TABLE.create(home.store.engine, checkfirst=True)
    with home.store.read() as session:
        before = session.scalar(select(func.count()).select_from(LedgerCheckpoint))
    seconds = concurrent(path, url, args.processes, args.threads, each)
    with home.store.read() as session:
        checkpoints = session.scalar(select(func.count()).select_from(LedgerCheckpoint)) - before
    peer = total / concurrent(path, url, args.processes, args.threads, each, peer=True)
    rate = total / seconds
    shape = f"{args.processes} processes x {args.threads} threads"
    print(f"{label}: {shape}, one event per transaction: {rate:,.0f} events/s ({total:,} "
          f"events, {seconds:.1f} s, {total / max(checkpoints, 1):.1f} events per checkpoint; "
          "target >= 2,000/s)")
    print(f"{label}: peer, {shape}, a bare transaction writing one row without the ledger: "
          f"{peer:,.0f} transactions/s; the ledger's durable appends run at "
          f"{rate / peer:.2f} of it")
    rest = args.append - single
    seconds = fill(home, rest, 100, start=single)
    print(f"{label}: one appender, 100 events per transaction: {rest / seconds:,.0f} events/s "
          f"({rest:,} events, {seconds:.1f} s)")
    with home.store.read() as session:
        check = verify_ledger(session, home.genesis_public_key, home.witness_path, home.origin)
    print(f"  the appended ledger verifies: {check.valid} ({check.events:,} events, "
          f"{check.checkpoints:,} checkpoints{'; ' + '; '.join(check.problems) if check.problems else ''})")
    home.store.dispose()
    shutil.rmtree(path, ignore_errors=True)


def ledger_home(events: int) -> Home:
    """A home holding ``events`` events (built once and cached)."""
    path = DATA / f"ledger-{events}"
    if not (path / "tds.sqlite3").exists():
        shutil.rmtree(path, ignore_errors=True)
        print(f"building a ledger of {events:,} events (once; cached in {path}) ...", flush=True)
        home = Home(path)
        home.init()
        fill(home, events, 1000)
        home.store.dispose()
    home = Home(path)
    home.init()  # brings a cached home to the newest schema
    return home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--append", type=int, default=100_000)
    parser.add_argument("--verify", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url", help="also append on this PostgreSQL server")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)

    appends("SQLite", DATA / "ledger-append", None, args)
    if args.database_url:
        with scratch_database(args.database_url, "tds_ledger") as url:
            appends("PostgreSQL", DATA / "ledger-append-pg", url, args)

    big = ledger_home(args.verify)
    started = time.perf_counter()
    with big.store.read() as session:
        result = verify_ledger(session, big.genesis_public_key, big.witness_path, big.origin)
    seconds = time.perf_counter() - started
    print(f"verify {result.events:,} events, {result.checkpoints:,} checkpoints: {seconds:.2f} s "
          f"(valid: {result.valid}; target <= 10 s)")

    rng = random.Random(7)
    times = []
    with big.store.read() as session:
        for _ in range(1000):
            seq = rng.randint(1, result.events)
            started = time.perf_counter()
            document = inclusion(session, seq)
            times.append(time.perf_counter() - started)
        assert not verify_inclusion(document, [big.public_key])
    print(f"inclusion proof in a tree of {result.events:,}: median {statistics.median(times) * 1e3:.2f}"
          f" ms, worst {max(times) * 1e3:.2f} ms ({len(document['proof'])} hashes; target <= 10 ms)")


if __name__ == "__main__":
    main()
