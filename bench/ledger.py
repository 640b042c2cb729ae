"""The ledger at scale: appends with checkpoints, full verification, inclusion proofs.

    .venv/bin/python bench/ledger.py [--append 100000] [--verify 1000000]

Appends on SQLite (a fresh home): every transaction stores its events, their Merkle nodes, a
signed checkpoint, and appends the checkpoint to the witness file with fsync. Two shapes:
one event per transaction (the platform's usual shape: a state change and its event), timed on
the first 5,000 events, and the whole run in transactions of 100 events. Target: >= 2,000
events/s. Verification recomputes every hash, link, leaf, node, root and signature of a ledger
of ``--verify`` events (built once, cached in bench/.data/; target <= 10 s). Proofs: median and
worst of 1,000 inclusion proofs of random events against the latest checkpoint (target <= 10 ms).
There is no external peer: the figures are the product's own.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import time
from pathlib import Path

from lineage import append, verify_ledger
from lineage.events import event
from lineage.proofs import inclusion, verify_inclusion
from policies import Actor, Role
from service.home import Home

BENCH_EVENT = event("bench.event", "job", "an event of the ledger benchmark")
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
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)

    scratch = DATA / "ledger-append"
    shutil.rmtree(scratch, ignore_errors=True)
    home = Home(scratch)
    home.init()
    single = min(5_000, args.append)
    seconds = fill(home, single, 1)
    print(f"append, one event per transaction: {single / seconds:,.0f} events/s "
          f"({single:,} events, {seconds:.1f} s; target >= 2,000/s)")
    rest = args.append - single
    seconds = fill(home, rest, 100, start=single)
    print(f"append, 100 events per transaction: {rest / seconds:,.0f} events/s "
          f"({rest:,} events, {seconds:.1f} s)")
    with home.store.read() as session:
        check = verify_ledger(session, home.genesis_public_key, home.witness_path, home.origin)
    print(f"  the appended ledger verifies: {check.valid} ({check.events:,} events, "
          f"{check.checkpoints:,} checkpoints)")
    home.store.dispose()
    shutil.rmtree(scratch, ignore_errors=True)

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
