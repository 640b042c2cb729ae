"""Simulated previews of dataset versions, used by the sandbox's simulated target.

Until SDV previews are built (the previews issue), a version's preview is the schema-only
placeholder of ``synth.placeholder``; the file carries its kind and label in its metadata.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from catalog.files import write_parquet_atomically
from catalog.models import DatasetVersion
from synth import placeholder


def preview_path(home: Path, version: DatasetVersion) -> Path:
    """Where the preview of ``version`` lives (relative paths resolve under ``home``)."""
    return home / "previews" / f"{version.id}.parquet"


def ensure_preview(home: Path, version: DatasetVersion, rows: int) -> Path:
    """The preview file of ``version``, created as a placeholder if there is none yet."""
    target = preview_path(home, version)
    if not target.exists():
        schema = pq.read_schema(home / version.path)
        write_parquet_atomically(placeholder.from_schema(schema, rows, seed=version.id), target)
    return target

