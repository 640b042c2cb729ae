"""A merchant's own data in a grant's workspace (Measures Art. 15: fusing the operator's data
with public data inside the platform).

A merchant uploads a table for one grant. It is scanned like a registration: a column the scan
finds holding PII the policy refuses (``[own_data] refused_entities``) refuses the whole file
and nothing is kept; the scan sets its level. It becomes a table of the workspace under its
name: real jobs read the file, simulated jobs its simulated preview (SDV, built the same way
as a catalog preview; a schema-only placeholder until it is ready), so the same SQL joins it
with the granted data on both targets. It never leaves except through an egress request,
whose checks count its persons like any source's (by the person key the merchant names, else
each row). It goes with the workspace when the grant ends, or when its merchant deletes it;
the ledger records the upload (ids, hash, size, entities found, never a value) and the deletion.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from catalog import applications, encryption
from catalog.applications import workspace_path
from catalog.files import read_table, schema_of, sha256_file, write_parquet_atomically
from catalog.models import Grant, utcnow
from catalog.names import identifier
from kernel.base import after_commit, on_rollback
from lineage import append
from policies import SYSTEM, Actor, Policy, Role
from policies.permissions import Action, permit
from sandbox import events
from sandbox.errors import Conflict, NotFound, QueryRefused
from sandbox.models import Job, OwnData
from storage import Storage
from vault.files import read_schema
from vault.files import read_table as vault_read

Transaction = Callable[[], AbstractContextManager[Session]]


def active(session: Session, grant_id: int) -> list[OwnData]:
    return list(session.scalars(select(OwnData).where(
        OwnData.grant_id == grant_id, OwnData.status == "active").order_by(OwnData.id)))


def taken(session: Session, grant: Grant) -> set[str]:
    """Names of the workspace's tables on either target: datasets, own tables, outputs and
    jobs still to finish."""
    names = {item.dataset_version.dataset.name for item in grant.items}
    names.update(o.name for o in active(session, grant.id))
    names.update(session.scalars(select(Job.output_name).where(
        Job.grant_id == grant.id, Job.status.not_in(("failed", "timed_out", "cancelled")))))
    return names


def upload(session: Session, actor: Actor, policy: Policy, data: Storage, grant_id: int,
           source: Path, name: str, person_key: str | None = None) -> OwnData:
    """Add ``source`` (Parquet or CSV) to the workspace of ``grant_id`` as table ``name``."""
    permit(actor, Action.JOB_SUBMIT)
    grant = applications.usable_grant(session, actor, grant_id)
    rules = policy.own_data
    name = identifier(name, "table name", policy.max_name_length)
    if name.lower().startswith(("tds_", "draft_", "duckdb_", "pg_", "sqlite_")) or \
            name in taken(session, grant):
        raise Conflict("the workspace already has a table named {name!r}, or the name is "
                       "reserved", name=name)
    if len(active(session, grant.id)) >= rules.max_per_grant:
        raise QueryRefused("the workspace holds {most} own tables already: delete one first",
                           most=rules.max_per_grant)
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise QueryRefused("cannot read the file: {strerror}", strerror=exc.strerror) from exc
    if size > rules.max_bytes:
        raise QueryRefused("the file is {size} bytes; the policy allows {most}", size=size,
                           most=rules.max_bytes)
    table = read_table(source)
    if person_key and person_key not in table.schema.names:
        raise QueryRefused("the file has no column {column!r} to be its person key",
                           column=person_key[:100])
    from anonymize.scan import scan_table, suggest_level  # loads Presidio only to upload

    scans = scan_table(table, sample_rows=policy.scan_sample_rows,
                       min_share=policy.entity_min_share, threads=policy.scan_threads)
    refused = [(s.name, s.entity) for s in scans if s.entity in rules.refused_entities]
    if refused:
        # Names the column and the kind, never a value.
        column, entity = refused[0]
        raise QueryRefused("column {column!r} holds personal information ({entity}) a merchant "
                           "may not bring into a workspace: drop or pseudonymize it before "
                           "uploading ({n} column(s) in all)", column=column, entity=entity,
                           n=len(refused))
    own = OwnData(grant_id=grant.id, org=grant.org, name=name, status="active", path="pending",
                  sha256="", rows=table.num_rows, bytes=0, schema=schema_of(table.schema),
                  pii=[{"name": s.name, "entity": s.entity, "share": round(s.fraction, 4)}
                       for s in scans], level=suggest_level(scans), person_key=person_key or None,
                  source_name=source.name[:255], uploaded_by=actor.id)
    session.add(own)
    session.flush()
    own.path = f"{workspace_path(grant.id)}/own/{own.id}-{name}.parquet"
    target = data.local(own.path)
    # Encrypted with the grant's data key when its real data is encrypted at rest.
    write_parquet_atomically(table, target, encryption.grant_key(session, grant.id))
    relative = own.path
    on_rollback(session, lambda: data.remove(relative))
    data.put(relative)
    own.sha256, own.bytes = sha256_file(target), target.stat().st_size
    append(session, actor, events.OWN_DATA_UPLOADED, f"own_data:{own.id}", {
        "grant_id": grant.id, "name": name, "sha256": own.sha256, "rows": own.rows,
        "columns": own.columns, "level": own.level,
        "entities": sorted({s.entity for s in scans if s.entity}),
        "person_key": own.person_key})
    return own


def get(session: Session, actor: Actor, own_id: int) -> OwnData:
    """An own table its merchant's organization (or an administrator) may read."""
    permit(actor, Action.JOB_READ)
    own = session.get(OwnData, own_id)
    if own is None or (actor.role == Role.MERCHANT and own.org != actor.org) or \
            actor.role not in (Role.MERCHANT, Role.ADMIN):
        raise NotFound("no own table {own_id}", own_id=own_id)
    return own


def listed(session: Session, actor: Actor, grant_id: int) -> list[OwnData]:
    permit(actor, Action.JOB_READ)
    grant = applications.get_grant(session, actor, grant_id)
    return list(session.scalars(select(OwnData).where(OwnData.grant_id == grant.id)
                                .order_by(OwnData.id)))


def delete(session: Session, actor: Actor, data: Storage, own_id: int) -> OwnData:
    """Delete an own table now: its files go after the commit; jobs run on it keep their
    outputs, whose egress checks can no longer re-run and so fail closed."""
    permit(actor, Action.JOB_SUBMIT)
    own = get(session, actor, own_id)
    if own.status != "active":
        raise Conflict("own table {own_id} is deleted already", own_id=own_id)
    _delete(session, actor, data, own, "merchant")
    return own


def _delete(session: Session, actor: Actor, data: Storage, own: OwnData, by: str) -> None:
    own.status, own.deleted_at = "deleted", utcnow()
    append(session, actor, events.OWN_DATA_DELETED, f"own_data:{own.id}",
           {"grant_id": own.grant_id, "by": by, "sha256": own.sha256})
    paths = [own.path, own.preview_path(), own.placeholder_path()]
    after_commit(session, lambda: [data.remove(p) for p in paths])


def end_with_grant(session: Session, actor: Actor, grant: Grant, data: Storage) -> None:
    """The grant ended: its own tables are deleted with its workspace (a ledger event each)."""
    for own in active(session, grant.id):
        _delete(session, actor, data, own, "grant_end")


applications.GRANT_END_HOOKS.append(end_with_grant)


def simulated_path(data: Storage, own: OwnData, rows: int) -> Path:
    """The file a simulated job reads: the preview when ready, else a placeholder made from
    the schema (never the real rows)."""
    if own.preview_status == "ready":
        with contextlib.suppress(FileNotFoundError):
            return data.fetch(own.preview_path())
    with contextlib.suppress(FileNotFoundError):
        return data.fetch(own.placeholder_path())
    from synth import placeholder

    schema = read_schema(data.fetch(own.path),
                         encryption.grant_key(object_session(own), own.grant_id))
    write_parquet_atomically(placeholder.from_schema(schema, rows, seed=own.id),
                             data.local(own.placeholder_path()))
    data.put(own.placeholder_path())
    return data.local(own.placeholder_path())


def build_preview(transaction: Transaction, data: Storage, policy: Policy,
                  own_id: int) -> str:
    """Build the simulated side of an own table as catalog previews are built (SDV, no real
    value reused); its status ("ready" or "failed")."""
    from synth.simulate import Options, simulate

    with transaction() as session:
        own = session.get(OwnData, own_id)
        if own is None or own.status != "active":
            return "gone"
        source, level = own.path, own.level
        key = encryption.grant_key(session, own.grant_id)
        entities = {c["name"]: c.get("entity") for c in own.pii}
        own.preview_status = "building"
    try:
        table = vault_read(data.fetch(source), key)
        simulated, report = simulate(table, Options(
            rows=policy.preview_rows, k_min=policy.level(level).k_min,
            fit_rows=policy.synth_fit_rows, seed=own_id), data.local("synth"),
            entities=entities)
        if report["exact_row_matches"] or report["reused_identifier_values"] or \
                not report["rows"]:
            raise RuntimeError("the preview reproduced real rows")
        status = "ready"
    except Exception:
        simulated, status = None, "failed"
    with transaction() as session:
        own = session.get(OwnData, own_id)
        if own is None or own.status != "active":
            return "gone"
        if simulated is not None:
            relative = own.preview_path()
            on_rollback(session, lambda: data.remove(relative))
            write_parquet_atomically(simulated, data.local(relative))
            data.put(relative)
        own.preview_status = status
        append(session, SYSTEM, events.OWN_DATA_PREVIEW, f"own_data:{own.id}",
               {"status": status})
    return status
