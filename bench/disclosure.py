"""Disclosure control of a crosstab over a 1,000,000-row source: ours against ACRO, same run.

    .venv/bin/python bench/disclosure.py [--rows 1000000]

A generated visits table (cached in bench/.data/): 12 districts x 8 departments, a lognormal fee
with a few dominant contributors. The output is the mean fee per district and department.

Ours: from the job's SQL, :mod:`egress.cells` builds the statistics query (contributors, sum,
largest, top-2 and top-n sums, negatives, missing values per cell), DuckDB runs it over the
source (2 threads, as a job) and :mod:`egress.disclosure` applies ACRO's rules. The source is
loaded into DuckDB first and not timed: in the product it is the grant's stage, built when the
job ran. Peer: ``acro.crosstab(..., values=fee, aggfunc="mean")`` of ACRO 1.0.2 in its own
environment (bench/.acro, created on first use: ACRO pins an older pandas), timed around the
call only, the data read from CSV beforehand. Each side is timed as the median of its runs
(ours 5, ACRO 3) in one warm process. Target: >= 10x. The per-cell verdicts of both are
compared and must agree.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from egress import cells, disclosure
from policies import load_policy

DATA = Path(__file__).parent / ".data"
ACRO_ENV = Path(__file__).parent / ".acro"
SQL = "SELECT district, dept, avg(fee) AS value FROM visits GROUP BY district, dept"
PEER = """
import json, logging, sys, time
import pandas as pd
from acro import ACRO
logging.disable(logging.CRITICAL)
df = pd.read_csv(sys.argv[1])
times = []
for _ in range(3):
    acro = ACRO(suppress=False)
    acro.sdc_checks.risk_appetite.update(check_missing_values=True)
    started = time.perf_counter()
    acro.crosstab(df.district, df.dept, values=df.fee, aggfunc="mean")
    times.append(time.perf_counter() - started)
seconds = sorted(times)[1]
outcome = acro.results.get_index(0).outcome
cells = {f"{r}|{c}": sorted(x.strip() for x in str(outcome.loc[r, c]).split(";")
                            if x.strip() and x.strip() != "ok")
         for r in outcome.index for c in outcome.columns}
print(json.dumps({"seconds": seconds, "cells": cells}))
"""


def make_data(rows: int) -> tuple[Path, Path]:
    DATA.mkdir(exist_ok=True)
    parquet, csv = DATA / f"egress-{rows}.parquet", DATA / f"egress-{rows}.csv"
    if not parquet.exists() or not csv.exists():
        con = duckdb.connect()
        con.execute("SELECT setseed(0.17)")
        con.execute(f"""CREATE TABLE t AS SELECT
            '区' || floor(pow(random(), 2) * 12)::INTEGER AS district,
            '科' || floor(pow(random(), 3) * 8)::INTEGER AS dept,
            CASE WHEN i % 250000 = 0 THEN 5e7 ELSE round(exp(5 + 0.6 * sqrt(-2 * ln(random()))
                 * cos(2 * pi() * random())), 2) END AS fee
            FROM range({rows}) r(i)""")
        con.execute(f"COPY t TO '{parquet}' (FORMAT parquet)")
        con.execute(f"COPY t TO '{csv}' (HEADER)")
        con.close()
    return parquet, csv


def peer_python() -> Path:
    python = ACRO_ENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(ACRO_ENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "acro==1.0.2"], check=True)
    return python


def ours(parquet: Path) -> tuple[dict, float]:
    rules = load_policy().egress_disclosure
    con = duckdb.connect(config={"threads": 2})
    con.execute(f"CREATE TABLE visits AS SELECT * FROM read_parquet('{parquet}')")
    times = []
    for _ in range(5):
        cells.aggregate_names.cache_clear()  # each run parses and builds its query afresh
        started = time.perf_counter()
        shape = cells.analyse(SQL, ["district", "dept", "value"], int(rules["nk_n"]))
        stats = con.sql(shape.stats_sql).to_arrow_table()
        result = disclosure.assess(shape, stats, rules)
        times.append(time.perf_counter() - started)
    seconds = sorted(times)[2]
    found = {}
    for row, (a, b) in enumerate(zip(stats.column("district").to_pylist(),
                                     stats.column("dept").to_pylist(), strict=True)):
        names = set()
        for rule in result.cell_rules(row, "value"):
            names |= {"NKCheck", "PPercentCheck"} if rule == "negative" else \
                {disclosure.ACRO_NAMES[rule]}
        found[f"{a}|{b}"] = sorted(names)
    return found, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    parquet, csv = make_data(args.rows)
    found, seconds = ours(parquet)
    peer = json.loads(subprocess.run([str(peer_python()), "-c", PEER, str(csv)], check=True,
                                     capture_output=True, text=True).stdout.splitlines()[-1])
    agree = all(peer["cells"].get(cell) == rules for cell, rules in found.items())
    empty = [c for c in peer["cells"] if c not in found]
    flagged = sum(bool(r) for r in found.values())
    print(f"crosstab of the mean fee over {args.rows:,} rows: {len(found)} cells, "
          f"{flagged} flagged")
    print(f"ours (statistics query in DuckDB + ACRO's rules), median of 5: {seconds:.3f} s")
    print(f"ACRO 1.0.2 crosstab, median of 3: {peer['seconds']:.3f} s")
    print(f"ratio: {peer['seconds'] / seconds:.1f}x (target >= 10x)")
    print(f"per-cell verdicts agree: {agree} ({len(empty)} empty crosstab cells only ACRO has)")
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
