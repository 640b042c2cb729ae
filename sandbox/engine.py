"""The locked DuckDB connection a job runs in, over only the granted columns."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from sandbox.errors import JobFailed


@dataclass(frozen=True)
class Exposure:
    """One table the job may read: a Parquet file and the columns of it that are granted."""

    name: str
    path: Path
    columns: tuple[str, ...]


def _projected(exposure: Exposure) -> ds.Dataset:
    # An Arrow dataset whose schema holds only the granted columns: the others cannot be read
    # through it, whatever SQL the job runs, and no host path shows through DuckDB.
    full = ds.dataset(exposure.path, format="parquet")
    try:
        fields = [full.schema.field(c) for c in exposure.columns]
    except KeyError as exc:
        raise JobFailed(f"granted column missing from {exposure.name}: {exc}") from exc
    return ds.dataset(exposure.path, format="parquet", schema=pa.schema(fields))


def locked_connection(exposures: list[Exposure], scratch: Path,
                      settings: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """A connection that sees only ``exposures``, cannot reach files, network or extensions,
    and whose configuration is locked. ``scratch`` is an empty per-job directory."""
    (scratch / "secrets").mkdir(parents=True, exist_ok=True)
    (scratch / "tmp").mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:", config={
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "allow_unsigned_extensions": False,
        "allow_persistent_secrets": False,
    })
    for exposure in exposures:
        con.register(exposure.name, _projected(exposure))
    # Order matters: directories are set while external access is still on.
    statements = [
        ("secret_directory", str(scratch / "secrets")),
        ("temp_directory", str(scratch / "tmp")),
        ("max_temp_directory_size", str(settings.get("max_temp_directory_size", "1GB"))),
        ("memory_limit", str(settings["memory_limit"])),
        ("threads", int(settings["threads"])),
        ("python_enable_replacements", False),
        ("enable_external_access", False),
        ("lock_configuration", True),
    ]
    for name, value in statements:
        con.execute(f"SET {name} = {_literal(value)}")
    return con


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def run_select(con: duckdb.DuckDBPyConnection, sql: str, max_rows: int,
               timeout_seconds: float) -> pa.Table:
    """Run one already-gated SELECT and return its rows as Arrow, within the limits."""
    started = time.monotonic()
    try:
        reader = con.sql(sql).to_arrow_reader(65_536)
        batches, rows = [], 0
        for batch in reader:
            rows += batch.num_rows
            if rows > max_rows:
                raise JobFailed(f"the result has more than the policy's {max_rows} rows")
            if time.monotonic() - started > timeout_seconds:
                raise JobFailed(f"the job ran longer than the policy's {timeout_seconds:g} s")
            batches.append(batch)
        names = reader.schema.names
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise JobFailed(f"the result has several columns named {duplicates[0]!r}; "
                            "give each output column its own name (AS ...)")
        return pa.Table.from_batches(batches, schema=reader.schema)
    except duckdb.Error as exc:
        raise JobFailed(_clean(str(exc))) from exc


def _clean(message: str) -> str:
    """DuckDB's message without the internal details a merchant needs not see."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return lines[0] if lines else "the query failed"
