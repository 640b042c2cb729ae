"""tds scan, synth and kanon: offline tools on a Parquet or CSV file (no home needed)."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from service.cli.base import emit, home, json_option, policy_in_force


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--sample", type=int, help="values sampled per column (default: policy)")
@click.option("--full", is_flag=True, help="scan every value")
@json_option
def scan(file: Path, sample: int | None, full: bool, as_json: bool) -> None:
    """PII scan of a Parquet or CSV file, column by column: the entity each column holds (when
    at least the policy's share of its values has it), and the hits of every entity."""
    if full and sample:
        raise click.BadParameter("give --sample or --full, not both", param_hint="--sample")
    if sample is not None and sample < 1:
        raise click.BadParameter("must be at least 1", param_hint="--sample")
    from anonymize import scan_table  # Presidio: loaded once the arguments are known good
    from catalog.files import read_table

    policy = policy_in_force()
    table = read_table(file)
    rows = None if full else (sample or policy.scan_sample_rows)
    scanned = min(rows or table.num_rows, table.num_rows) * table.num_columns
    with _progress(table.num_columns, "scanning columns",
                   show=not as_json and scanned >= PROGRESS_MIN_CELLS) as advance:
        results = scan_table(table, rows, policy.entity_min_share, threads=policy.scan_threads,
                             progress=advance)
    data = [s.as_dict() for s in results]
    emit(data, as_json, _scan_text)


PROGRESS_MIN_CELLS = 1_000_000  # scans of fewer cells finish before a bar would help


@contextlib.contextmanager
def _progress(total: int, label: str, show: bool) -> Iterator[Callable[[str], None]]:
    """A progress bar on standard error (not with --json), advanced once per item."""
    if not show:
        yield lambda _name: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit="col", file=sys.stderr, leave=False) as bar:
        lock = threading.Lock()

        def advance(name: str) -> None:
            with lock:
                bar.set_postfix_str(name[:24], refresh=False)
                bar.update(1)

        yield advance


def _scan_text(columns: list[dict[str, Any]]) -> str:
    lines = []
    for c in columns:
        hits = ", ".join(f"{e} {n}" for e, n in sorted(c["hits"].items(), key=lambda x: -x[1]))
        lines.append(f"{c['name']:24s} {c['entity'] or '-':18s} {c['fraction']:6.1%} of "
                     f"{c['scanned']:<9} {hits}")
    return "\n".join(lines)


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--rows", type=click.IntRange(1, 10_000_000), required=True,
              help="simulated rows to write")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="where to write them (.parquet or .csv)")
@click.option("--level", default="L3", show_default=True,
              help="the level whose k minimum makes a category rare (policy)")
@click.option("--seed", type=int, default=0, show_default=True)
@json_option
def synth(file: Path, rows: int, out: Path, level: str, seed: int, as_json: bool) -> None:
    """Simulated rows with the columns and types of a Parquet or CSV file: identifiers and PII
    are generated afresh, other columns modelled (SDV Gaussian copula); no real value or row
    is reused."""
    policy = policy_in_force()
    if level not in policy.levels:
        raise click.BadParameter(f"one of {', '.join(policy.levels)}", param_hint="--level")
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise click.BadParameter("write a .parquet or .csv file", param_hint="--out")
    if out.exists():
        raise click.BadParameter(f"{out} exists; choose a new file", param_hint="--out")
    # Imported once the arguments are known good: SDV and PyTorch take seconds to load, and a
    # mistyped command should be answered at once.
    from catalog.files import read_table, write_parquet_atomically
    from synth.simulate import Options, simulate

    table = read_table(file)
    simulated, report = simulate(table, Options(rows=rows, k_min=policy.levels[level].k_min,
                                                fit_rows=policy.synth_fit_rows, seed=seed),
                                 home().root / "synth")
    if out.suffix.lower() == ".parquet":
        write_parquet_atomically(simulated, out)
    else:
        import pyarrow.csv as pacsv
        pacsv.write_csv(simulated, out)
    report["out"] = str(out)
    emit(report, as_json, lambda d: (
        f"wrote {d['rows']} simulated rows to {d['out']} in {d['seconds']} s: quality "
        f"{d['quality']}, real rows reproduced {d['exact_row_matches']}, real identifier "
        f"values reused {d['reused_identifier_values']}"))


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--qi", required=True, help="quasi-identifier columns, comma-separated")
@click.option("--sensitive", help="the sensitive column (for l, entropy-l and t)")
@click.option("--level", default="L3", show_default=True,
              help="the level whose k minimum counts rows below k (policy)")
@json_option
def kanon(file: Path, qi: str, sensitive: str | None, level: str, as_json: bool) -> None:
    """k-anonymity, l-diversity, entropy l-diversity, t-closeness and re-identification risk
    of a Parquet or CSV file."""
    from anonymize.privacy import measure

    policy = policy_in_force()
    if level not in policy.levels:
        raise click.BadParameter(f"one of {', '.join(policy.levels)}", param_hint="--level")
    columns = [c.strip() for c in qi.split(",") if c.strip()]
    data = measure(file, columns, sensitive, policy.levels[level].k_min,
                   threads=policy.sandbox.threads)
    emit(data, as_json, _kanon_text)


def _kanon_text(d: dict[str, Any]) -> str:
    lines = [f"rows {d['rows']}, equivalence classes {d['equivalence_classes']}",
             f"k = {d['k']}  ({d['rows_below_k_min']} rows in classes below k = {d['k_min']})"]
    if d["sensitive"]:
        lines.append(f"l = {d['l']}, entropy-l = {d['entropy_l']} ({d['entropy_l_value']:.4f}), "
                     f"t = {d['t']:.4f} ({d['t_distance']} distance) for {d['sensitive']}")
    risk = d["risk"]
    lines.append(f"prosecutor risk: highest {risk['prosecutor']['highest']:.4f}, average "
                 f"{risk['prosecutor']['average']:.4f}; marketer risk {risk['marketer']['average']:.4f}")
    return "\n".join(lines)


COMMANDS = [scan, synth, kanon]
