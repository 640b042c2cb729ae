"""``tds sandbox run``: one query in the locked sandbox over local files.

The same job process, lockdown and gate as a workspace job; the tables are the given files,
each exposing only the listed columns. Nothing is kept: the stage and scratch directories are
removed when the query ends.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from catalog.names import identifier
from sandbox.errors import QueryRefused
from sandbox.process import JobProcess, run_once
from sandbox.spec import OUTPUT_NAME, Exposure


def parse_data(text: str) -> tuple[str, Path, tuple[str, ...] | None]:
    """``NAME=FILE[:col1,col2,...]`` as (name, file, columns or None for all)."""
    name, sep, rest = text.partition("=")
    if not sep or not rest:
        raise QueryRefused("--data must look like NAME=FILE[:col1,col2], not {text!r}", text=text)
    path_text, columns = rest, None
    head, colon, tail = rest.rpartition(":")
    if colon and head and not Path(rest).exists():
        path_text, columns = head, tuple(c.strip() for c in tail.split(",") if c.strip())
    return identifier(name.strip(), "table name", 63), Path(path_text).expanduser(), columns


def run_files(data: list[tuple[str, Path, tuple[str, ...] | None]], sql: str,
              settings: Mapping[str, Any], out: Path | None = None) -> dict[str, Any]:
    """Run ``sql`` over ``data`` in a fresh locked job process; the outcome with all rows, or
    with ``out`` the result written there (Parquet, or CSV by its suffix) and no rows."""
    names = [name for name, _, _ in data]
    if len(set(names)) != len(names):
        raise QueryRefused("each --data table needs its own name")
    if out is not None and out.suffix.lower() not in (".parquet", ".csv"):
        raise QueryRefused("--out must name a .parquet or .csv file, not {name!r}", name=out.name)
    # The job process loads Python, DuckDB and Arrow while the files are looked at here.
    process = JobProcess(int(settings["job_nice"]))
    root = Path(tempfile.mkdtemp(prefix="tds-sandbox-"))
    try:
        tables = [_exposure(root, name, path, columns) for name, path, columns in data]
        workdir = root / "job"
        workdir.mkdir()
        spec = {
            "workdir": str(workdir), "home": str(root), "stage_dir": str(root / "stage"),
            "tables": [t.as_dict() for t in tables], "sql": sql, "settings": dict(settings),
            "pseudonym_key": secrets.token_bytes(32).hex(),
            "stage_key": secrets.token_bytes(32).hex(), "keep_output": out is not None,
            "show_rows": 0 if out is not None else int(settings["max_result_rows"]),
        }
        outcome, process = run_once(spec, process), None
        if out is not None and outcome.get("status") == "succeeded":
            _deliver(workdir / OUTPUT_NAME, out)
            outcome["out"] = str(out)
        return outcome
    finally:
        if process is not None:  # the files were refused: the process never got its job
            process.kill()
        shutil.rmtree(root, ignore_errors=True)


def _exposure(root: Path, name: str, path: Path, columns: tuple[str, ...] | None) -> Exposure:
    """A Parquet file is read in place by DuckDB's own reader through a view of the listed
    columns (``native``: as fast as plain DuckDB, bench/sandbox_overhead.py); a CSV file is
    converted first, with only those columns.

    The job process may open that one file (DuckDB's ``allowed_paths``, which does not tell
    reading from writing), so the gate alone keeps the SQL from naming the file's other
    columns: it allows no file-reading function and only a SELECT. That is acceptable here and
    only here: the files are the caller's own, on the caller's machine. Workspace jobs never
    read a file this way: datasets are staged with only the granted columns and earlier
    outputs are read through projected Arrow datasets."""
    # Arrow loads here, after the job process was started: the two load side by side.
    import pyarrow as pa
    import pyarrow.parquet as pq

    from catalog.files import read_table, write_parquet_atomically

    if not path.is_file():
        raise QueryRefused("no file {path}", path=path)
    if path.suffix.lower() == ".parquet":
        try:
            available = pq.read_schema(path).names
        except (OSError, pa.ArrowException) as exc:
            raise QueryRefused("{name} is not a readable Parquet file", name=path.name) from exc
        chosen = columns or tuple(available)
        _all_there(path, chosen, available)
        return Exposure(name, path.absolute(), tuple(chosen), staged=False, native=True)
    table = read_table(path)
    chosen = columns or tuple(table.column_names)
    _all_there(path, chosen, table.column_names)
    # Only the exposed columns are copied: the others never reach the job process.
    staged = root / "files" / f"{name}.parquet"
    write_parquet_atomically(table.select(list(chosen)), staged)
    return Exposure(name, staged, tuple(chosen))


def _all_there(path: Path, chosen: tuple[str, ...], available: list[str]) -> None:
    missing = [c for c in chosen if c not in available]
    if missing:
        raise QueryRefused("{name} has no column {missing!r}", name=path.name, missing=missing[0])


def _deliver(produced: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        pcsv.write_csv(pq.read_table(produced), out)
    else:
        shutil.move(produced, out)
