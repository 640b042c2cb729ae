"""Privacy models at scale: k, l, entropy-l and t together, against pyCANON, same run.

    .venv/bin/python bench/kanon.py [--rows 10000000] [--slice 1000000]

A generated table (cached in bench/.data/) with five quasi-identifiers and a categorical
sensitive attribute. Ours: ``anonymize.privacy.measure`` on all rows (target <= 5 s on 2 cores).
Peer: pyCANON 1.3.6 on the first ``--slice`` rows, in its own environment (bench/.pycanon,
created on first use: pyCANON pins an older pandas), and ours on the same slice, with the ratio
(target >= 20x). The figures of both on the slice are printed side by side: they must agree.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from anonymize.privacy import measure

DATA = Path(__file__).parent / ".data"
PYCANON_ENV = Path(__file__).parent / ".pycanon"
QI = ["sex", "age_band", "region", "education", "marital"]
SENSITIVE = "diagnosis"
PEER = """
import json, sys, time
import pandas as pd
from pycanon import anonymity as a
df = pd.read_csv(sys.argv[1])
qi, sa = sys.argv[2].split(","), sys.argv[3]
started = time.perf_counter()
out = {"k": int(a.k_anonymity(df, qi)), "l": int(a.l_diversity(df, qi, [sa])),
       "entropy_l": int(a.entropy_l_diversity(df, qi, [sa])), "t": float(a.t_closeness(df, qi, [sa]))}
out["seconds"] = time.perf_counter() - started
print(json.dumps(out))
"""


def make_data(rows: int) -> Path:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"kanon-{rows}.parquet"
    if not path.exists():
        con = duckdb.connect()
        con.execute("SELECT setseed(0.42)")
        con.execute(f"""COPY (SELECT
            CASE WHEN random() < 0.5 THEN '男' ELSE '女' END AS sex,
            floor(random() * 10)::INTEGER * 10 AS age_band,
            '区' || floor(random() * 30)::INTEGER AS region,
            '学历' || floor(random() * 8)::INTEGER AS education,
            '婚姻' || floor(random() * 5)::INTEGER AS marital,
            'D' || floor(random() * random() * 12)::INTEGER AS diagnosis
            FROM range({rows}) t(i)) TO '{path}.tmp' (FORMAT parquet)""")
        con.close()
        Path(f"{path}.tmp").rename(path)
    return path


def peer_python() -> Path:
    python = PYCANON_ENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PYCANON_ENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "pycanon==1.3.6"], check=True)
    return python


def timed(data, threads: int = 2) -> tuple[dict, float]:
    started = time.perf_counter()
    report = measure(data, QI, SENSITIVE, k_min=10, threads=threads)
    return report, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--slice", type=int, default=1_000_000)
    args = parser.parse_args()
    path = make_data(args.rows)
    report, seconds = timed(path)
    print(f"ours, {args.rows:,} rows, {len(QI)} quasi-identifiers: {seconds:.2f} s "
          f"(target <= 5 s) {'ok' if seconds <= 5 else 'MISSED'}; k={report['k']} "
          f"l={report['l']} entropy-l={report['entropy_l']} t={report['t']:.6f} "
          f"classes={report['equivalence_classes']}")
    piece = DATA / f"kanon-{args.rows}-slice-{args.slice}.csv"
    if not piece.exists():
        duckdb.sql(f"COPY (SELECT * FROM '{path}' LIMIT {args.slice}) TO '{piece}' (HEADER)")
    # Both sides are timed on the slice already in memory (pyCANON's DataFrame, our Arrow table).
    ours, ours_s = timed(duckdb.sql(f"SELECT * FROM '{path}' LIMIT {args.slice}").arrow().read_all())
    done = subprocess.run([str(peer_python()), "-c", PEER, str(piece), ",".join(QI), SENSITIVE],
                          capture_output=True, text=True, check=True)
    peer = json.loads(done.stdout)
    print(f"slice of {args.slice:,} rows: ours {ours_s:.2f} s, pyCANON {peer['seconds']:.1f} s, "
          f"ratio {peer['seconds'] / ours_s:.0f}x (target >= 20x) "
          f"{'ok' if peer['seconds'] / ours_s >= 20 else 'MISSED'}")
    for key in ("k", "l", "entropy_l", "t"):
        print(f"  {key:10s} ours {ours[key]!s:22s} pyCANON {peer[key]}")


if __name__ == "__main__":
    main()
