"""Reading and writing files under a data key (or in the clear when the key is None).

Parquet files use pyarrow's modular encryption with the key for the footer and every column
(AES-GCM through OpenSSL): a reader decrypts only the columns and row groups it reads, and
DuckDB scans them through Arrow datasets at the speed of plain files. Other files (JSON
findings) are one AES-GCM envelope. A file read with the wrong key, or without one, fails with
a clear error rather than garbage.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from vault.errors import VaultError

ENVELOPE_MAGIC = b"TDSENC1\n"


def _encryption(key: bytes | None) -> Any:
    """pyarrow's encryption properties for ``key`` (None: a plain file)."""
    if key is None:
        return None
    import pyarrow.parquet.encryption as pe

    return pe.create_encryption_properties(key)


def decryption(key: bytes | None) -> Any:
    """pyarrow's decryption properties for ``key`` (None: plain files)."""
    if key is None:
        return None
    import pyarrow.parquet.encryption as pe

    # Files written before their scope had a key stay plain: they read as they are.
    return pe.create_decryption_properties(key, allow_plaintext_files=True)


def _unreadable(path: Path, key: bytes | None) -> VaultError | None:
    """The clear error for a file pyarrow could not open, when encryption is the reason."""
    try:
        encrypted = is_encrypted(path)
    except OSError:
        return None
    if not encrypted:
        return None  # a damaged plain file: pyarrow's own error says more
    if key is None:
        return VaultError("{name} is encrypted and no key was given to read it", name=path.name)
    return VaultError("{name} cannot be decrypted with its data key (damaged, or encrypted "
                      "under another key)", name=path.name)


def _opened(path: str | Path, key: bytes | None, open_: Any) -> Any:
    try:
        return open_()
    except (OSError, pa.ArrowException) as exc:
        clear = _unreadable(Path(path), key)
        if clear is not None:
            raise clear from exc
        raise


def read_table(path: str | Path, key: bytes | None, **options: Any) -> pa.Table:
    return _opened(path, key, lambda: pq.read_table(path, decryption_properties=decryption(key),
                                                    **options))


def parquet_file(path: str | Path, key: bytes | None) -> pq.ParquetFile:
    return _opened(path, key, lambda: pq.ParquetFile(path, decryption_properties=decryption(key)))


def read_schema(path: str | Path, key: bytes | None) -> pa.Schema:
    return parquet_file(path, key).schema_arrow


def writer(path: str | Path, schema: pa.Schema, key: bytes | None, **options: Any
           ) -> pq.ParquetWriter:
    """A ParquetWriter that encrypts with ``key`` (plain when None)."""
    options.setdefault("compression", "zstd")
    return pq.ParquetWriter(path, schema, encryption_properties=_encryption(key), **options)


def write_table(table: pa.Table, path: str | Path, key: bytes | None, **options: Any) -> None:
    options.setdefault("compression", "zstd")
    pq.write_table(table, path, encryption_properties=_encryption(key), **options)


def arrow_dataset(path: str | Path, key: bytes | None, schema: pa.Schema | None = None) -> Any:
    """An Arrow dataset over one Parquet file (DuckDB scans it with projection pushdown)."""
    import pyarrow.dataset as ds

    fmt: Any = "parquet"
    if key is not None:
        fmt = ds.ParquetFileFormat(default_fragment_scan_options=ds.ParquetFragmentScanOptions(
            decryption_properties=decryption(key)))
    return ds.dataset(str(path), format=fmt, schema=schema)


def seal(data: bytes, key: bytes | None, label: str) -> bytes:
    """``data`` as an AES-GCM envelope under ``key`` (unchanged when None); ``label`` (what the
    file is) is authenticated, so an envelope cannot stand in for another file."""
    if key is None:
        return data
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    return ENVELOPE_MAGIC + nonce + AESGCM(key).encrypt(nonce, data, label.encode())


def open_sealed(blob: bytes, key: bytes | None, label: str) -> bytes:
    if not blob.startswith(ENVELOPE_MAGIC):
        return blob  # a file written in the clear
    if key is None:
        raise VaultError("{label} is encrypted and no key was given to read it", label=label)
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    body = blob[len(ENVELOPE_MAGIC):]
    try:
        return AESGCM(key).decrypt(body[:12], body[12:], label.encode())
    except InvalidTag as exc:
        raise VaultError("{label} cannot be decrypted with its data key", label=label) from exc


def write_bytes(path: Path, data: bytes, key: bytes | None, label: str) -> None:
    """Write ``data`` sealed under ``key`` through a temporary file (readers never see half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(seal(data, key, label))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_bytes(path: Path, key: bytes | None, label: str) -> bytes:
    return open_sealed(path.read_bytes(), key, label)


def is_encrypted(path: str | Path) -> bool:
    """Whether a Parquet file is encrypted (its footer, "PARE", is not plain "PAR1")."""
    with open(path, "rb") as handle:
        handle.seek(-4, os.SEEK_END)
        return handle.read(4) == b"PARE"
