"""The locked DuckDB connection a job runs in, over only the granted columns.

Granted datasets are staged once per grant into a DuckDB database file holding only the granted
columns (native storage: as fast as DuckDB over Parquet, see bench/sandbox_overhead.py). A job
attaches it read-only and sees each table through a view in ``main``; earlier outputs of the
workspace appear through Arrow datasets. No view, setting or message carries a host path:
directories are relative to the job's own working directory, and messages are scrubbed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from catalog.names import quote_identifier
from policies import parse_size
from sandbox import functions
from sandbox.errors import JobFailed, JobTimedOut
from sandbox.spec import PERSON_COLUMN, ROW_COLUMN, Exposure

STAGE_ALIAS = "granted"


def stage_key(exposures: list[Exposure]) -> str:
    """Identifies the content of a stage: sources (by size and time), columns, pseudonyms."""
    parts = []
    for e in sorted((e for e in exposures if e.staged), key=lambda e: e.name):
        stat = e.path.stat()
        parts.append([e.name, str(e.path), stat.st_size, stat.st_mtime_ns, list(e.columns),
                      list(e.pseudonymized), e.person, e.consent, e.consent_column])
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:24]


def stage(directory: Path, exposures: list[Exposure], pseudonym_key: bytes,
          consent_keys: dict[str, bytes] | None = None, key: bytes | None = None
          ) -> Path | None:
    """The stage of ``exposures`` under ``directory``, built if missing (None: nothing to
    stage). Only granted columns are copied, and of a dataset used with consent only the rows
    of consenting persons (``consent_keys``: the digest key per such table); concurrent jobs
    wait for one builder. Without ``key`` the stage is a DuckDB database file; with the
    grant's data key it is a folder of Parquet files encrypted with it (DuckDB writes no
    encrypted file without its OpenSSL extension, which a sandbox never loads)."""
    staged = [e for e in exposures if e.staged]
    if not staged:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    name = f"stage-{stage_key(staged)}"
    target = directory / (name if key is not None else f"{name}.duckdb")
    if target.exists():
        return target
    with open(directory / "stage.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        building = directory / f"{name}.building"
        _remove(building)
        if key is not None:
            building.mkdir()
        con = duckdb.connect(":memory:" if key is not None else str(building),
                             config={"autoload_known_extensions": False,
                                     "autoinstall_known_extensions": False})
        try:
            functions.register(con, pseudonym_key)
            for e in staged:
                query, params = _staging_query(con, e, consent_keys)
                if key is None:
                    con.execute(f"CREATE TABLE {quote_identifier(e.name)} AS {query}", params)
                else:
                    _write_encrypted(con.sql(query, params=params),
                                     building / f"{e.name}.parquet", key)
                with contextlib.suppress(duckdb.Error):
                    con.unregister("tds__source")
            if key is None:
                con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(building, target)
        for old in directory.glob("stage-*"):
            if old != target and not old.name.endswith(".building"):
                _remove(old)  # an older stage: a job still using it keeps its inodes (links)
        return target


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _staging_query(con: duckdb.DuckDBPyConnection, e: Exposure,
                   consent_keys: dict[str, bytes] | None) -> tuple[str, list[Any]]:
    """The SELECT that stages ``e``'s granted columns (pseudonyms, contributors, consent)."""
    from vault.files import arrow_dataset, read_schema

    available = set(read_schema(e.path, e.key_bytes()).names)
    missing = [c for c in (*e.columns, *filter(None, [e.person])) if c not in available]
    if missing:
        raise JobFailed(f"granted column {missing[0]!r} is missing from {e.name}")
    select = ", ".join(
        f"tds_pseudonym(CAST({quote_identifier(c)} AS VARCHAR)) AS {quote_identifier(c)}"
        if c in e.pseudonymized else quote_identifier(c) for c in e.columns)
    if e.person == "":
        select += f", row_number() OVER () AS {PERSON_COLUMN}"
    elif e.person is not None:
        select += (f", tds_pseudonym(CAST({quote_identifier(e.person)} AS VARCHAR)) "
                   f"AS {PERSON_COLUMN}")
    if e.person is not None:
        select += f", row_number() OVER () AS {ROW_COLUMN}"
    if e.key is not None:
        # An encrypted dataset is read through pyarrow, which decrypts it (OpenSSL).
        con.register("tds__source", arrow_dataset(e.path, e.key_bytes()))
        source, params = "tds__source", []
    else:
        source, params = "read_parquet(?)", [str(e.path)]
    if e.consent is None:
        return f"SELECT {select} FROM {source}", params
    key = (consent_keys or {}).get(e.name)
    if key is None or not e.consent_column or e.consent_column not in available:
        # Fail closed: without its key or column the consent scope cannot apply.
        raise JobFailed(f"the consent scope of {e.name} cannot be applied")
    _consent_digest(con, key)
    return (f"SELECT {select} FROM {source} WHERE tds__consent(CAST("
            f"{quote_identifier(e.consent_column)} AS VARCHAR)) IN "
            f"(SELECT subject FROM read_parquet(?))", [*params, e.consent])


def _write_encrypted(relation: duckdb.DuckDBPyRelation, path: Path, key: bytes,
                     settings: dict[str, Any] | None = None) -> None:
    """Write ``relation`` to an encrypted Parquet file, a row group per batch. With
    ``settings`` (a job's output) the policy's row cap applies while it is written. DuckDB
    computes the next batch in a second thread while pyarrow encrypts and writes the last
    (both release the GIL): as fast as DuckDB's own writer (bench/sandbox_overhead.py)."""
    import queue
    import threading

    from vault.files import writer

    reader = relation.to_arrow_reader(ROW_GROUP_ROWS)
    batches: queue.Queue = queue.Queue(2)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in (reader if settings is None else _batches(reader, settings)):
                if stop.is_set():
                    return
                batches.put(batch)
            batches.put(None)
        except BaseException as exc:  # handed to the writing thread, raised there
            batches.put(exc)

    producer = threading.Thread(target=produce, name="tds-encrypted-output", daemon=True)
    producer.start()
    rows = 0
    try:
        with writer(path, reader.schema, key,
                    **(OUTPUT_WRITE if settings is not None else STAGE_WRITE_OPTIONS)) as out:
            while (batch := batches.get()) is not None:
                if isinstance(batch, BaseException):
                    raise batch
                rows += batch.num_rows
                if settings is not None:
                    _within_caps(rows, 0, settings)
                out.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
    finally:
        stop.set()
        while producer.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                batches.get_nowait()
            producer.join(0.01)


# Row groups of a million rows: DuckDB's Arrow scan of an encrypted stage then runs in
# parallel over them (bench/sandbox_overhead.py --encryption).
ROW_GROUP_ROWS = 1 << 20
# A stage is written once and read by every job: snappy pages, dictionaries where they help.
STAGE_WRITE_OPTIONS = {"compression": "snappy"}
# An output is written by its job: without dictionaries pyarrow keeps pace with DuckDB.
OUTPUT_WRITE = {"compression": "snappy", "use_dictionary": False}


def _consent_digest(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """``tds__consent(text)`` on the staging connection only (a job's connection never has it):
    the digest :func:`catalog.consent.digest` files consents under."""
    from anonymize.operators import keyed_hex, per_distinct

    with contextlib.suppress(duckdb.InvalidInputException, duckdb.CatalogException):
        con.remove_function("tds__consent")  # the previous table's key
    con.create_function("tds__consent",
                        lambda values: per_distinct(values, lambda v: keyed_hex(key, v)),
                        [duckdb.sqltype("VARCHAR")], duckdb.sqltype("VARCHAR"), type="arrow",
                        null_handling="special")


def _projected(exposure: Exposure, path: Path | None = None, key: bytes | None = None,
               columns: tuple[str, ...] | None = None) -> Any:
    # An Arrow dataset whose schema holds only the granted columns: the others cannot be read
    # through it, whatever SQL the job runs, and no host path shows through DuckDB. It
    # decrypts an encrypted file (pyarrow's modular encryption) as it scans.
    from vault.files import arrow_dataset  # pyarrow.dataset loads pandas: only when needed

    path, key = path or exposure.path, key if path is not None else exposure.key_bytes()
    full = arrow_dataset(path, key)
    try:
        fields = [full.schema.field(c) for c in (columns or exposure.columns)]
    except KeyError as exc:
        raise JobFailed(f"column missing from {exposure.name}: {exc}") from exc
    return arrow_dataset(path, key, schema=pa.schema(fields))


def new_connection() -> duckdb.DuckDBPyConnection:
    """An empty in-memory connection that will not fetch or load extensions. A warm job
    process makes it before its job arrives; :func:`lock` then fits it to the job."""
    return duckdb.connect(":memory:", config={
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "allow_unsigned_extensions": False,
        "allow_persistent_secrets": False,
    })


def locked_connection(exposures: list[Exposure], stage_file: Path | None, settings: dict[str, Any],
                      pseudonym_key: bytes, output: Path | None = None
                      ) -> duckdb.DuckDBPyConnection:
    """A connection that sees only ``exposures``, cannot reach files, network or extensions, and
    whose configuration is locked. Run it with the job's own empty directory as working
    directory: the secret and temporary directories are relative to it."""
    con = new_connection()
    functions.register(con, pseudonym_key)
    return lock(con, exposures, stage_file, settings, output)


def lock(con: duckdb.DuckDBPyConnection, exposures: list[Exposure], stage_file: Path | None,
         settings: dict[str, Any], output: Path | None = None, key: bytes | None = None
         ) -> duckdb.DuckDBPyConnection:
    """Expose ``exposures`` on ``con`` (a :func:`new_connection`), then lock it down. A stage
    folder (encrypted Parquet files, read with the grant's ``key``) is scanned through Arrow
    datasets; a stage file is attached."""
    os.makedirs("secrets", exist_ok=True)
    os.makedirs("tmp", exist_ok=True)
    folder = stage_file if stage_file is not None and stage_file.is_dir() else None
    if stage_file is not None and folder is None:
        con.execute(f"ATTACH ? AS {STAGE_ALIAS} (READ_ONLY)", [str(stage_file)])
    for e in exposures:
        if e.staged and folder is not None:
            con.register(e.name, _projected(e, folder / f"{e.name}.parquet", key, e.visible()))
        elif e.staged:
            columns = ", ".join(quote_identifier(c) for c in e.visible())
            con.execute(f"CREATE VIEW {quote_identifier(e.name)} AS SELECT {columns} "
                        f"FROM {STAGE_ALIAS}.{quote_identifier(e.name)}")
        elif e.native:
            columns = ", ".join(quote_identifier(c) for c in e.columns)
            try:
                con.execute(f"CREATE VIEW {quote_identifier(e.name)} AS SELECT {columns} "
                            f"FROM read_parquet({_literal(native_link(e))})")
            except duckdb.Error as exc:
                raise JobFailed(f"{e.name} cannot be read as Parquet with those columns") \
                    from exc
        else:
            con.register(e.name, _projected(e))
    readable = [str(Path(native_link(e)).absolute()) for e in exposures if e.native]
    # Order matters: directories are set while external access is still on, the lock is last.
    for name, value in lockdown_settings(settings, output, readable, folder is not None):
        con.execute(f"SET {name} = {_literal(value)}")
    return con


def native_link(exposure: Exposure) -> str:
    """The neutral name, in the job's working directory, of a ``native`` exposure's file."""
    return f"input-{exposure.name}.parquet"


def lockdown_settings(settings: dict[str, Any], output: Path | None = None,
                      readable: list[str] | None = None, arrow_stage: bool = False
                      ) -> list[tuple[str, Any]]:
    """The settings applied to every job connection, in the order they must be applied.
    ``output``, the one file the job's result is written to, and the ``readable`` links of
    native exposures stay open to DuckDB (it does not tell reading from writing: the gate's
    SELECT-only rule is what keeps those from being written)."""
    spill = str(settings["max_temp_directory_size"])
    opened = [str(Path(output).absolute())] if output else []
    opened += readable or []
    writable = [("allowed_paths", opened)] if opened else []
    # DuckDB knows no row counts of Arrow scans (it assumes one row each), and would build a
    # join's hash table on the wider side, a 10-million-row table rather than its 20-row
    # dimension: over an encrypted stage the build side is the join's right side, as written.
    # Nor do its join filters help there: pushed into pyarrow's scanner they cost more than
    # the rows they spare.
    planning = [("disabled_optimizers", "build_side_probe_side,join_filter_pushdown")] \
        if arrow_stage else []
    return [
        *writable,
        *planning,
        ("secret_directory", "secrets"),
        # No spilling at all when the policy allows none.
        ("temp_directory", "tmp" if parse_size(spill, allow_zero=True) else ""),
        ("max_temp_directory_size", spill),
        ("memory_limit", str(settings["memory_limit"])),
        ("threads", int(settings["threads"])),
        ("max_execution_time", int(settings["max_execution_seconds"]) * 1000),
        ("max_expression_depth", int(settings["max_expression_depth"]) * 5),
        ("autoinstall_known_extensions", False),
        ("autoload_known_extensions", False),
        ("allow_community_extensions", False),
        ("allow_unsigned_extensions", False),
        ("allow_persistent_secrets", False),
        ("allow_extension_repositories", "forbidden"),
        ("python_enable_replacements", False),
        ("enable_progress_bar", False),
        ("enable_external_access", False),
        ("lock_configuration", True),
    ]


def _literal(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


@dataclass
class Result:
    rows: int
    bytes: int
    schema: pa.Schema
    shown: list[list[Any]]


def run_select(con: duckdb.DuckDBPyConnection, sql: str, output: Path | None,
               settings: dict[str, Any], show_rows: int = 0, key: bytes | None = None
               ) -> Result:
    """Run one gated SELECT within the policy's row and byte caps. With ``output`` DuckDB
    writes the result there as Parquet (the connection must allow that one path, see
    :func:`lockdown_settings`), or with ``key`` pyarrow writes it encrypted; the first
    ``show_rows`` rows are returned to show."""
    max_rows = int(settings["max_result_rows"])
    try:
        relation = con.sql(sql)
        names = relation.columns
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise JobFailed(f"the result has several columns named {duplicates[0]!r}; "
                            "give each output column its own name (AS ...)", "output_schema")
        if output is None:
            return _collect(relation.limit(max_rows + 1).to_arrow_reader(65_536), settings,
                            show_rows)
        if key is None:
            relation.limit(max_rows + 1).write_parquet(str(output), compression="zstd")
        else:
            _write_encrypted(relation.limit(max_rows + 1), Path(output), key, settings)
    except duckdb.Error as exc:
        if output is not None:
            Path(output).unlink(missing_ok=True)
        raise _failure(exc, settings) from exc
    except JobFailed:
        if output is not None:
            Path(output).unlink(missing_ok=True)
        raise
    from vault.files import parquet_file

    written = parquet_file(output, key)
    rows, size = written.metadata.num_rows, Path(output).stat().st_size
    try:
        _within_caps(rows, size, settings)
    except JobFailed:
        Path(output).unlink()
        raise
    _, shown = first_rows(written, show_rows)
    return Result(rows, size, written.schema_arrow, shown)


def _within_caps(rows: int, size: int, settings: dict[str, Any]) -> None:
    max_rows, max_bytes = int(settings["max_result_rows"]), int(settings["max_result_bytes"])
    if rows > max_rows:
        raise JobFailed(f"the result has more than the policy's {max_rows} rows", "result_limit")
    if size > max_bytes:
        raise JobFailed(f"the result is larger than the policy's {max_bytes} bytes",
                        "result_limit")


def _collect(reader: pa.RecordBatchReader, settings: dict[str, Any], show_rows: int) -> Result:
    rows = size = 0
    shown: list[list[Any]] = []
    for batch in _batches(reader, settings):
        rows += batch.num_rows
        size += batch.nbytes
        _within_caps(rows, size, settings)
        if len(shown) < show_rows:
            shown.extend(batch_rows(batch.slice(0, show_rows - len(shown))))
    return Result(rows, size, reader.schema, shown)


def first_rows(source: Path | pq.ParquetFile, limit: int,
               offset: int = 0) -> tuple[list[str], list[list[Any]]]:
    """The column names of a Parquet file and its rows ``offset`` .. ``offset + limit``,
    reading only the row groups that hold them, batch by batch."""
    parquet = source if isinstance(source, pq.ParquetFile) else pq.ParquetFile(source)
    rows: list[list[Any]] = []
    if limit > 0 and offset < parquet.metadata.num_rows:
        groups, skip = [], max(offset, 0)
        for group in range(parquet.num_row_groups):
            size = parquet.metadata.row_group(group).num_rows
            if groups or skip < size:
                groups.append(group)
            else:
                skip -= size  # a whole group before the first row wanted: never read
        for batch in parquet.iter_batches(batch_size=min(skip + limit, 65_536),
                                          row_groups=groups):
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            rows.extend(batch_rows(batch.slice(skip, limit - len(rows))))
            skip = 0
            if len(rows) >= limit:
                break
    return parquet.schema_arrow.names, rows


def _batches(reader: pa.RecordBatchReader, settings: dict[str, Any]) -> Iterator[pa.RecordBatch]:
    try:
        yield from reader
    except (duckdb.Error, pa.ArrowException) as exc:
        raise _failure(exc, settings) from exc


def _failure(exc: Exception, settings: dict[str, Any]) -> JobFailed:
    if isinstance(exc, duckdb.InterruptException):
        return JobTimedOut.after(settings["max_execution_seconds"])
    if isinstance(exc, duckdb.OutOfMemoryException):
        return JobFailed(f"the job needed more memory than the policy's {settings['memory_limit']}"
                         f" ({clean(str(exc))})", "memory", disclosive=True)
    # Parser, binder and catalog errors come before a single value is read: they speak of the
    # SQL and the schema only. Any other message may quote values (a failed cast names one).
    schema_only = isinstance(exc, duckdb.ParserException | duckdb.BinderException
                             | duckdb.CatalogException)
    return JobFailed(clean(str(exc)), error_class(exc), disclosive=not schema_only)


def error_class(exc: Exception) -> str:
    """DuckDB's kind of error in a word: ``ConversionException`` -> ``conversion``."""
    name = type(exc).__name__.removesuffix("Exception").removesuffix("Error")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() or "failed"


def batch_rows(batch: pa.RecordBatch) -> list[list[Any]]:
    """A record batch as rows of Python values."""
    columns = [column.to_pylist() for column in batch.columns]
    return [list(row) for row in zip(*columns, strict=True)]


def clean(message: str) -> str:
    """DuckDB's message without the internal details a merchant need not see."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return lines[0] if lines else "the query failed"
