"""Differentially private aggregates against the same aggregates without noise, same run.

    .venv/bin/python bench/dp.py [--rows 10000000] [--repeat 3]

On the generated Parquet dataset of bench/sandbox_overhead.py (10 million rows by default,
cached in bench/.data/), registered at L2 and granted through the full review, one question
is asked per group of 20 districts: the count, the sum, the mean and the median of ``amount``.

- non-DP: the merchant's SQL (count, sum, avg, median) through the full job path;
- DP: the same statistics as a DP job (epsilon 0.5, one row per person of the person key
  ``person``, which has two rows each; bounds 0..1000),
  through the full job path: the platform's statement (contribution bound by a window over
  the persons, clamping, exact DECIMAL sums, the values of each group for the quantile) in the
  locked job process, then OpenDP's noise in the worker;
- plain DuckDB: the non-DP SQL in a fresh connection with the sandbox's threads and memory,
  COPY to Parquet (the peer of bench/sandbox_overhead.py).

Each figure is submit-to-finished wall time, median of ``--repeat`` after one warm-up run of
each (the warm-up stages the grant: with and without contributors, once each). The DP job's
time in its job process and in the worker's noise are printed apart. The ratio DP / non-DP
is the cost of the guarantee; there is no external DP peer on this machine to compare with.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bench.sandbox_overhead import make_data, run_job, run_plain, setup
from sandbox import dp_jobs
from sandbox.pool import wait_for
from service.home import Home

SQL = ("SELECT district, count(*) AS n, sum(amount) AS total, avg(amount) AS mean, "
       "median(amount) AS p50 FROM facts GROUP BY district")
SPEC = {"table": "facts", "by": [{"column": "district", "keys": [str(i) for i in range(20)]}],
        "epsilon": 0.5, "contributions": 1, "measures": [
            {"statistic": "count"},
            {"statistic": "sum", "column": "amount", "lower": 0, "upper": 1000},
            {"statistic": "mean", "column": "amount", "lower": 0, "upper": 1000},
            {"statistic": "quantile", "column": "amount", "lower": 0, "upper": 1000}]}


def run_dp(home: Home, pool, merchant, grant: int, name: str) -> tuple[float, float]:
    """(seconds in the job process, seconds from submit to finished, noise included)."""
    started = time.perf_counter()
    with home.store.transaction() as s:
        job_id = dp_jobs.submit(s, merchant, home.policy, home.data, grant, SPEC, name).id
    pool.wake()
    job = wait_for(home.store.read, job_id, interval=0.02)
    wall = time.perf_counter() - started
    if job.status != "succeeded":
        raise SystemExit(f"DP job failed: {job.error}")
    return job.duration_ms / 1000, wall


def noise_only(rows: int) -> float:
    """Seconds OpenDP takes to release 20 groups' figures of ``rows`` values (in process)."""
    import pyarrow as pa

    from policies import load_policy
    from sandbox import dp

    policy = load_policy()
    spec = dp.parse(SPEC, policy)
    per, bins = rows // 20, policy.privacy.quantile_candidates - 1
    histogram = [(b, per // bins) for b in range(bins)]
    exact = pa.table({"district": [str(i) for i in range(20)], dp.COUNT: [per] * 20,
                      f"{dp.SUM}0": [per * 500.0] * 20, f"{dp.N}0": [per] * 20,
                      f"{dp.HISTOGRAM}0": pa.array([histogram] * 20,
                                                   pa.map_(pa.int32(), pa.uint64()))})
    started = time.perf_counter()
    dp.privatize(exact, spec, policy)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.repeat + 1 > 10:
        raise SystemExit("--repeat at most 9: the L2 budget (5.0) holds ten DP jobs of 0.5")
    facts, dims = make_data(args.rows)
    root = Path(tempfile.mkdtemp(prefix="tds-bench-dp-"))
    try:
        home = Home(root / "home")
        started = time.perf_counter()
        grant, merchant = setup(home, facts, dims)
        from accounts.users import User
        from catalog import datasets

        with home.store.transaction() as s:
            # ``person`` is the person key (two rows each): the DP job bounds each person.
            provider = s.scalar(select(User).where(User.name == "provider")).actor()
            datasets.classify(s, provider, "facts", person_key="person")
        print(f"setup (init, register {args.rows:,} rows, grant): "
              f"{time.perf_counter() - started:.1f} s")
        settings = home.policy.sandbox
        with home.pool(size=1) as pool:
            time.sleep(1.0)
            first = run_job(home, pool, merchant, grant, SQL, "warm_plain")[1]
            first_dp = run_dp(home, pool, merchant, grant, "warm_dp")[1]
            print(f"first runs (each stages the grant): non-DP {first:.2f} s, DP {first_dp:.2f} s")
            plain_job, dp_job, dp_inside, peer = [], [], [], []
            for i in range(args.repeat):
                time.sleep(1.5)
                plain_job.append(run_job(home, pool, merchant, grant, SQL, f"plain{i}")[1])
                time.sleep(1.5)
                inside, wall = run_dp(home, pool, merchant, grant, f"dp{i}")
                dp_inside.append(inside)
                dp_job.append(wall)
                time.sleep(0.5)
                peer.append(run_plain(facts, dims, SQL, settings, root / "plain.parquet"))
        a, b, c = (statistics.median(x) for x in (dp_job, plain_job, peer))
        print(f"{args.rows:,} rows, 20 groups, count/sum/mean/median (medians of {args.repeat}):")
        print(f"  DP job, submit->done        {a:7.2f} s  (in its job process "
              f"{statistics.median(dp_inside):.2f} s)")
        print(f"  non-DP job, submit->done    {b:7.2f} s")
        print(f"  plain DuckDB (peer)         {c:7.2f} s")
        print(f"  ratio DP / non-DP job {a / b:.2f}; DP job / plain DuckDB {a / c:.2f}")
        print(f"  OpenDP noise alone for {args.rows:,} values in 20 groups: "
              f"{noise_only(args.rows):.2f} s")
        home.store.dispose()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
