"""Simulated previews of dataset versions: what the catalog shows and the sandbox's simulated
target runs on.

After registration a version's preview is built (``build``): SDV-simulated rows that never
reuse a real value (``synth.simulate``), with a report (quality, leaks, distance to closest
record) stored beside it. Until it is ready, or if it failed, the simulated target uses a
schema-only placeholder, labelled as such. Building, success and failure are ledger events.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from catalog import encryption, events
from catalog.errors import CatalogError, NotFound
from catalog.files import write_parquet_atomically
from catalog.models import DatasetVersion, iso, utcnow
from kernel.base import on_rollback
from lineage import append
from policies import SYSTEM, Policy
from storage import Storage
from synth import placeholder
from vault.files import read_schema, read_table

Transaction = Callable[[], AbstractContextManager[Session]]


def preview_path(version: DatasetVersion) -> str:
    """Where the simulated preview of ``version`` lives in the storage."""
    return f"previews/{version.id}.parquet"


def report_path(version: DatasetVersion) -> str:
    return f"previews/{version.id}.report.json"


def placeholder_path(version: DatasetVersion) -> str:
    return f"previews/{version.id}.placeholder.parquet"


def ensure_preview(data: Storage, version: DatasetVersion, rows: int) -> Path:
    """The local file the simulated target reads: the preview when ready, else the placeholder
    (made from the schema the first time, then kept)."""
    if version.preview_status == "ready":
        with contextlib.suppress(FileNotFoundError):
            return data.fetch(preview_path(version))
    relative = placeholder_path(version)
    with contextlib.suppress(FileNotFoundError):
        return data.fetch(relative)
    schema = read_schema(data.fetch(version.path), encryption.version_key(version))
    write_parquet_atomically(placeholder.from_schema(schema, rows, seed=version.id),
                             data.local(relative))
    data.put(relative)
    return data.local(relative)


def build(transaction: Transaction, data: Storage, policy: Policy, version_id: int,
          progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Build the preview of one version; the outcome (ready or failed, with the reason) is
    recorded and logged either way. Returns the version's preview state."""
    from synth.simulate import Options, simulate  # SDV and PyTorch load only here

    say = progress or (lambda _message: None)
    with transaction() as session:
        version = _version(session, version_id)
        version.preview_status, version.preview_error = "building", ""
        source = version.path
        key = encryption.version_key(version, session)
        k_min = policy.level(version.dataset.level).k_min
        entities = {t["name"]: t.get("entity") for t in version.tags()}
        append(session, SYSTEM, events.PREVIEW_BUILDING, f"dataset_version:{version.id}", {})
    try:
        say("reading the data")
        table = read_table(data.fetch(source), key)
        say(f"fitting the model on up to {policy.synth_fit_rows} of {table.num_rows} rows")
        simulated, report = simulate(table, Options(rows=policy.preview_rows, k_min=k_min,
                                                    fit_rows=policy.synth_fit_rows,
                                                    seed=version_id),
                                     data.local("synth"), entities=entities)
        say("checking the preview against the data")
        if report["exact_row_matches"] or report["reused_identifier_values"]:
            raise RuntimeError("the preview reproduced real values; it is not published")
        if not report["rows"]:
            raise RuntimeError("every row the model drew exists in the data (too few distinct "
                               "combinations): a row-level preview would disclose them")
    except Exception as exc:  # any failure is recorded on the version, never silent
        return _failed(transaction, version_id, exc)
    try:
        with transaction() as session:
            version = _version(session, version_id)
            written = [preview_path(version), report_path(version)]
            on_rollback(session, lambda: [data.remove(p) for p in written])
            write_parquet_atomically(simulated, data.local(written[0]))
            data.local(written[1]).write_text(json.dumps(report, ensure_ascii=False, indent=1),
                                              encoding="utf-8")
            for relative in written:
                data.put(relative)
            version.preview_status, version.preview_built_at = "ready", utcnow()
            version.preview_report = {k: report[k] for k in (
                "quality", "column_shapes", "column_pair_trends", "exact_row_matches",
                "reused_identifier_values", "rows", "seconds")}
            append(session, SYSTEM, events.PREVIEW_BUILT, f"dataset_version:{version.id}", {
                "rows": report["rows"], "quality": str(report["quality"]),
                "exact_row_matches": report["exact_row_matches"],
                "reused_identifier_values": report["reused_identifier_values"]})
            say(f"preview ready: {report['rows']} rows, quality {report['quality']}")
            return state(version)
    except (OSError, CatalogError) as exc:  # e.g. the storage is full: nothing is kept
        return _failed(transaction, version_id, exc)


def _failed(transaction: Transaction, version_id: int, exc: Exception) -> dict[str, Any]:
    """Record on the version why its preview could not be built; its preview state."""
    reason = (exc.message if isinstance(exc, CatalogError) else f"{type(exc).__name__}: {exc}")
    with transaction() as session:
        version = _version(session, version_id)
        version.preview_status, version.preview_error = "failed", reason[:1000]
        append(session, SYSTEM, events.PREVIEW_FAILED, f"dataset_version:{version.id}",
               {"reason": reason[:200]})
        return state(version)


def _version(session: Session, version_id: int) -> DatasetVersion:
    version = session.get(DatasetVersion, version_id)
    if version is None:
        raise NotFound("no dataset version {version_id}", version_id=version_id)
    return version


def state(version: DatasetVersion) -> dict[str, Any]:
    return {"dataset": version.dataset.name, "version": version.version,
            "status": version.preview_status, "error": version.preview_error or None,
            "report": version.preview_report,
            "built_at": iso(version.preview_built_at)}


def show(data: Storage, version: DatasetVersion, rows: int) -> dict[str, Any]:
    """The preview's rows (at most ``rows``), labelled, with its report."""
    out = state(version)
    try:
        if version.preview_status != "ready":
            raise FileNotFoundError(preview_path(version))
        table = pq.read_table(data.fetch(preview_path(version)))
    except FileNotFoundError:
        out.update(simulated=True, columns=[], rows=[], kind="none",
                   label="no simulated preview yet: " + (version.preview_status or "pending"))
        return out
    metadata = table.schema.metadata or {}
    label = metadata.get(b"tds.preview.label", b"").decode()
    head = table.slice(0, rows)
    try:
        report = json.loads(data.fetch(report_path(version)).read_text(encoding="utf-8"))
    except FileNotFoundError:
        report = None
    out.update(simulated=True, label=label, kind=metadata.get(b"tds.preview.kind", b"").decode(),
               columns=head.column_names,
               rows=[[_plain(v) for v in row.values()] for row in head.to_pylist()],
               full_report=report)
    return out


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
