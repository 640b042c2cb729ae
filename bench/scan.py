"""PII column scans as whole processes, against presidio-structured, same run.

    .venv/bin/python bench/scan.py [--rows 1000000] [--slice 20000]

A generated table (cached in bench/.data/) of 16 mixed columns: identifiers, names,
addresses, free text, numbers and look-alike decoys (``service.demo_data.scan_table``).

Every figure is a whole process, start to exit, as a user meets it: ``tds scan FILE --full
--json`` over every value of every column. The full table (target <= 30 s on 2 cores, stretch
<= 10 s), and the first ``--slice`` rows (median of 3) against presidio-structured's
``PandasAnalysisBuilder`` in a process of its own (the Presidio analyzer cell by cell, with our
recognizers and no NLP model, the fastest Presidio configuration), with the ratio (target >=
20x). Every column must get its expected entity and no decoy column any. Where a small scan's
time goes is printed too: interpreter and imports, building the recognizers, reading the file,
scanning. presidio-structured is installed on first use (``pip install presidio-structured``);
it is a benchmark peer, not a dependency of the product.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this file's folder comes first on the path, and its sibling synth.py would
# hide the product's `synth` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]
ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / ".data"
TDS = [sys.executable, "-m", "service.cli"]


def make_data(rows: int) -> Path:
    import pyarrow.parquet as pq

    from service import demo_data

    DATA.mkdir(exist_ok=True)
    path = DATA / f"scan-{rows}.parquet"
    if not path.exists():
        print(f"generating {rows:,} rows (once; cached in {path}) ...", flush=True)
        tmp = path.with_suffix(".tmp")
        pq.write_table(demo_data.scan_table(rows, seed=2026), tmp)
        tmp.rename(path)
    return path


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:])} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def check(found: dict[str, str | None], label: str) -> bool:
    from service import demo_data

    wrong = {c: e for c, e in found.items() if e != demo_data.SCAN_COLUMNS[c]}
    print(f"{label}: " + ("every column classified right, no decoy flagged" if not wrong else
                          f"MISCLASSIFIED {wrong}"))
    return not wrong


def peer(path: str, language: str = "zh") -> None:
    """The peer's process: presidio-structured's column analysis of the file, printed."""
    import pyarrow.parquet as pq
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_structured import PandasAnalysisBuilder

    from anonymize.analyzer import registry

    engine = AnalyzerEngine(registry=registry([language]), supported_languages=[language],
                            nlp_engine=NoOpNlpEngine(models=[{"lang_code": language,
                                                              "model_name": "noop"}]))
    frame = pq.read_table(path).to_pandas()
    mapping = PandasAnalysisBuilder(analyzer=engine).generate_analysis(
        frame, language=language).entity_mapping
    print(json.dumps(mapping))


def stages(path: str) -> None:
    """Where a small scan's time goes, in a fresh process (printed as JSON)."""
    began = time.perf_counter()
    from anonymize.scan import recognizers, scan_table
    from catalog.files import read_table
    imported = time.perf_counter()
    recognizers()
    built = time.perf_counter()
    table = read_table(Path(path))
    read = time.perf_counter()
    scan_table(table, sample_rows=None, threads=2)
    scanned = time.perf_counter()
    print(json.dumps({"imports": imported - began, "recognizers": built - imported,
                      "read": read - built, "scan": scanned - read}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--slice", type=int, default=20_000)
    parser.add_argument("--peer", help=argparse.SUPPRESS)
    parser.add_argument("--stages", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        return peer(args.peer)
    if args.stages:
        return stages(args.stages)
    try:
        import presidio_structured  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "presidio-structured"],
                       check=True)
    import pyarrow.parquet as pq

    path = make_data(args.rows)
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "TDS_HOME": str(Path(scratch) / "home")}
        seconds, out = timed([*TDS, "scan", str(path), "--full", "--json"], env)
        results = json.loads(out)
        cells = sum(r["scanned"] for r in results)
        print(f"tds scan --full, {args.rows:,} rows x {len(results)} columns, whole process: "
              f"{seconds:.2f} s ({cells / seconds / 1e6:.1f} M cells/s; target <= 30 s, "
              "stretch <= 10 s)")
        for r in results:
            hits = ", ".join(f"{e} {n:,}" for e, n in sorted(r["hits"].items(), key=lambda x: -x[1]))
            print(f"  {r['name']:12s} {r['entity'] or '-':16s} {r['fraction']:7.1%}  {hits}")
        ok = check({r["name"]: r["entity"] for r in results}, "ours")

        part = Path(scratch) / f"slice-{args.slice}.parquet"
        pq.write_table(pq.read_table(path).slice(0, args.slice), part)
        runs = [timed([*TDS, "scan", str(part), "--full", "--json"], env) for _ in range(3)]
        ours = statistics.median(s for s, _ in runs)
        ok = check({r["name"]: r["entity"] for r in json.loads(runs[0][1])},
                   "ours on the slice") and ok
        where = json.loads(timed([sys.executable, __file__, "--stages", str(part)], env)[1])
        peer_s, out = timed([sys.executable, __file__, "--peer", str(part)], env)
        mapping = json.loads(out)
    print(f"{args.slice:,}-row slice, whole processes: tds scan {ours:.2f} s (median of 3), "
          f"presidio-structured {peer_s:.1f} s, ratio {peer_s / ours:.1f}x (target >= 20x)")
    print("  where the slice's scan goes (in a fresh process): " + ", ".join(
        f"{k} {v:.2f} s" for k, v in where.items()))
    from service import demo_data

    flagged = {c: e for c, e in mapping.items() if demo_data.SCAN_COLUMNS.get(c) != e}
    print("presidio-structured on the slice: " + (
        "every column classified right" if not flagged else
        f"differs on {len(flagged)} columns: {flagged} (it takes any entity found at all, "
        "with no share threshold)"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
