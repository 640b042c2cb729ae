"""Uploaded files (API and console): copied to the home's scratch folder within the policy's
limit, removed when the caller is done, and registered as datasets."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from actions import Context
from actions import catalog as catalog_actions
from catalog import datasets
from catalog.errors import InvalidInput, StorageFull
from policies import storage_full

SUFFIXES = (".parquet", ".pq", ".csv", ".txt", ".tsv")


@contextmanager
def saved(stream: BinaryIO, filename: str | None, scratch: Path, limit: int) -> Iterator[Path]:
    """The upload as a file in ``scratch`` (deleted on exit); refuses other types and files
    over ``limit`` bytes before anything is registered."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput("unsupported file type {value!r}: upload Parquet or CSV",
                           value=suffix or '(none)')
    scratch.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=scratch, suffix=suffix)
    try:
        written = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while block := stream.read(1 << 20):
                    written += len(block)
                    if written > limit:
                        raise InvalidInput("the upload exceeds the policy's {limit} bytes",
                                           limit=limit)
                    out.write(block)
        except OSError as exc:
            if storage_full(exc):
                raise StorageFull("the platform's storage is full: the upload could not be "
                                  "saved, and nothing was registered; ask the platform's "
                                  "operators for space") from exc
            raise
        yield Path(tmp)
    finally:
        Path(tmp).unlink(missing_ok=True)


def register_upload(ctx: Context, stream: BinaryIO, filename: str | None,
                    registration: datasets.Registration) -> dict[str, Any]:
    """Register an uploaded file as a dataset (or a new version of one); its simulated preview
    is built after the response (the dispatcher's deferred work). Returns the dataset as the
    catalog describes it."""
    with saved(stream, filename, ctx.data.local("scratch"), ctx.policy.max_upload_bytes) as source:
        return catalog_actions.register(ctx, source, registration)


def consent_upload(ctx: Context, dataset: str, stream: BinaryIO,
                   filename: str | None) -> dict[str, Any]:
    """File the consents of an uploaded CSV or Parquet file (the file is deleted after)."""
    from actions import consent as consent_actions

    with saved(stream, filename, ctx.data.local("scratch"), ctx.policy.max_upload_bytes) as source:
        return consent_actions.record_file(ctx, dataset, source)


def parse_field_names(text: str) -> dict[str, str] | None:
    """Chinese field names as a form sends them: a JSON object, or lines ``column=名称``
    (blank lines skipped); None when nothing is given."""
    text = (text or "").strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise InvalidInput("field names are not valid JSON: {msg}", msg=exc.msg) from None
        if not isinstance(parsed, dict):
            raise InvalidInput("field names must be a JSON object: column -> field name")
        return {str(k): str(v) for k, v in parsed.items()}
    names: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        column, sep, label = line.partition("=")
        if not sep or not column.strip():
            raise InvalidInput("field names, line {number}: write column=field name", number=number)
        names[column.strip()] = label.strip()
    return names


def own_upload(ctx: Context, grant_id: int, stream: BinaryIO, filename: str | None, name: str,
               person_key: str | None) -> dict[str, Any]:
    """Add an uploaded file to a grant's workspace as the merchant's own table."""
    from actions import own_data as own_actions

    with saved(stream, filename, ctx.data.local("scratch"), ctx.policy.own_data.max_bytes) \
            as source:
        return own_actions.upload(ctx, grant_id, source, name, person_key)
