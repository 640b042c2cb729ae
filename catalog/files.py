"""Reading provider files (Parquet, CSV in UTF-8 or GB18030) into Arrow tables, with checks."""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from catalog.errors import InvalidInput, StorageFull
from catalog.names import column_name
from policies.errors import storage_full
from vault.files import write_table

_DELIMITERS = ",;\t|"
_SNIFF_BYTES = 64 * 1024


def detect_encoding(head: bytes) -> str:
    """utf-8 (with or without BOM) when the head decodes as such, else GB18030."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            # The head may end inside a multi-byte character: allow a short tail.
            head.decode(encoding) if len(head) < _SNIFF_BYTES else head[:-4].decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    raise InvalidInput("the CSV file is neither UTF-8 nor GB18030 text")


def detect_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def read_table(path: Path) -> pa.Table:
    """Read a Parquet or CSV file; raise InvalidInput with a clear reason when it is unusable."""
    if not path.is_file():
        raise InvalidInput("no such file: {path}", path=path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        table = _read_parquet(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        table = _read_csv(path)
    else:
        raise InvalidInput(
            "unsupported file type {value!r}: register a Parquet or CSV file",
            value=suffix or '(none)'
        )
    if table.num_columns == 0:
        raise InvalidInput("the file has no columns")
    if table.num_rows == 0:
        raise InvalidInput("the file has no rows")
    names = [column_name(n) for n in table.column_names]
    if len(set(names)) != len(names):
        raise InvalidInput("the file has duplicate column names")
    for field in table.schema:
        if pa.types.is_nested(field.type) or pa.types.is_dictionary(field.type):
            if pa.types.is_dictionary(field.type):
                continue
            raise InvalidInput("column {name!r} has a nested type, which is not supported",
                               name=field.name)
    return table.rename_columns(names)


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise InvalidInput("not a readable Parquet file: {exc}", exc=exc) from exc


def _read_csv(path: Path) -> pa.Table:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise InvalidInput("the CSV file is empty")
    if b"\x00" in head:
        raise InvalidInput("the file is binary, not CSV text")
    encoding = detect_encoding(head)
    sample = head.decode(encoding, errors="ignore")
    delimiter = detect_delimiter(sample)
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding.replace("-sig", "")),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InvalidInput("the CSV file cannot be parsed: {exc}", exc=exc) from exc


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def schema_of(table: pa.Schema) -> list[dict[str, str]]:
    return [{"name": f.name, "type": str(f.type)} for f in table]


def write_parquet_atomically(table: pa.Table, target: Path, key: bytes | None = None) -> None:
    """Write ``table`` to ``target`` through a temporary file: readers never see half a file.
    With ``key`` the file is encrypted (vault.files)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(fd)
    try:
        write_table(table, tmp, key)  # zstd; encrypted with ``key`` if given
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and storage_full(exc):
            raise StorageFull("the platform's storage is full: {name} could not be written, and "
                              "nothing of it was kept; ask the platform's operators for space",
                              name=target.name) from exc
        raise
