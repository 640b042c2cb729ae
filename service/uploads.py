"""Uploaded files (API and console): copied to the home's scratch folder within the policy's
limit, removed when the caller is done."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from catalog.errors import InvalidInput

SUFFIXES = (".parquet", ".pq", ".csv", ".txt", ".tsv")


@contextmanager
def saved(stream: BinaryIO, filename: str | None, scratch: Path, limit: int) -> Iterator[Path]:
    """The upload as a file in ``scratch`` (deleted on exit); refuses other types and files
    over ``limit`` bytes before anything is registered."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(f"unsupported file type {suffix or '(none)'!r}: upload Parquet or CSV")
    scratch.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=scratch, suffix=suffix)
    try:
        written = 0
        with os.fdopen(fd, "wb") as out:
            while block := stream.read(1 << 20):
                written += len(block)
                if written > limit:
                    raise InvalidInput(f"the upload exceeds the policy's {limit} bytes")
                out.write(block)
        yield Path(tmp)
    finally:
        Path(tmp).unlink(missing_ok=True)
