"""``tds sandbox run``: one query in the locked sandbox over local files.

The same job process, lockdown and gate as a workspace job; the tables are the given files,
each exposing only the listed columns. Nothing is kept: the stage and scratch directories are
removed when the query ends.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

from catalog.files import read_table, write_parquet_atomically
from catalog.names import identifier
from sandbox.engine import Exposure
from sandbox.errors import QueryRefused
from sandbox.process import run_once


def parse_data(text: str) -> tuple[str, Path, tuple[str, ...] | None]:
    """``NAME=FILE[:col1,col2,...]`` as (name, file, columns or None for all)."""
    name, sep, rest = text.partition("=")
    if not sep or not rest:
        raise QueryRefused(f"--data must look like NAME=FILE[:col1,col2], not {text!r}")
    path_text, columns = rest, None
    head, colon, tail = rest.rpartition(":")
    if colon and head and not Path(rest).exists():
        path_text, columns = head, tuple(c.strip() for c in tail.split(",") if c.strip())
    return identifier(name.strip(), "table name", 63), Path(path_text).expanduser(), columns


def run_files(data: list[tuple[str, Path, tuple[str, ...] | None]], sql: str,
              settings: dict[str, Any]) -> dict[str, Any]:
    """Run ``sql`` over ``data`` in a fresh locked job process; the outcome with all rows."""
    names = [name for name, _, _ in data]
    if len(set(names)) != len(names):
        raise QueryRefused("each --data table needs its own name")
    root = Path(tempfile.mkdtemp(prefix="tds-sandbox-"))
    try:
        tables = []
        for name, path, columns in data:
            if not path.is_file():
                raise QueryRefused(f"no file {path}")
            table = read_table(path)
            chosen = columns or tuple(table.column_names)
            missing = [c for c in chosen if c not in table.column_names]
            if missing:
                raise QueryRefused(f"{path.name} has no column {missing[0]!r}")
            # Only the exposed columns are copied: the others never reach the job process.
            staged = root / "files" / f"{name}.parquet"
            write_parquet_atomically(table.select(list(chosen)), staged)
            tables.append(Exposure(name, staged, tuple(chosen)))
        workdir = root / "job"
        workdir.mkdir()
        spec = {
            "workdir": str(workdir), "home": str(root), "stage_dir": str(root / "stage"),
            "tables": [t.as_dict() for t in tables], "sql": sql, "settings": settings,
            "pseudonym_key": secrets.token_bytes(32).hex(),
            "stage_key": secrets.token_bytes(32).hex(), "keep_output": False,
            "show_rows": int(settings["max_result_rows"]),
        }
        return run_once(spec)
    finally:
        shutil.rmtree(root, ignore_errors=True)
