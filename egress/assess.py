"""Run every automatic check of an egress request and keep what they found inside the platform
(``egress/<id>/`` in the storage: the cells' fingerprint, the mitigated output, ACRO's
results.json)."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from catalog import encryption
from catalog.models import Grant
from egress import acro_results, cells, checks, differencing, disclosure, mitigate, private
from egress.checks import CheckResult
from egress.models import EgressRequest
from kernel.base import on_rollback
from policies import Policy
from sandbox.errors import SandboxError
from sandbox.models import Job
from storage import Storage
from vault import keys as vault_keys
from vault.files import read_table, write_bytes


def folder_of(request_id: int) -> str:
    """The storage folder of a request's findings."""
    return f"egress/{request_id}"


def run(session: Session, policy: Policy, data: Storage, secret: bytes, req: EgressRequest,
        job: Job) -> list[CheckResult]:
    """Every check of ``req`` on ``job``'s output; a mitigated output is written for the
    release and its path set on the request."""
    grant = session.get(Grant, job.grant_id)
    relative = folder_of(req.id)
    data.remove(relative)  # an earlier round's findings
    folder = data.local(relative)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    on_rollback(session, lambda: data.remove(relative))
    output = data.fetch(job.output_path)
    # The grant's data key when its real data is encrypted at rest: the output is read, and
    # the findings written, with it.
    key = encryption.grant_key(session, job.grant_id)
    assessment = None
    if job.dp is not None and policy.privacy.skip_cell_rules:
        # Differentially private: the noise and the budget stand for the cell rules.
        traced, shape = private.traced(job), private.shape(job)
        sdc, differenced = private.cell_checks(session, data, job, grant)
        release_output = output
    else:
        traced, shape, assessment, sdc, differenced, release_output = _cell_rules(
            session, policy, data, secret, req, job, grant, folder, output, key)
    results = [
        checks.scope(grant, job, traced, req.product, req.purpose),
        checks.sources(req.declared_sources, checks.sources_read(session, job)),
        checks.raw_exposure(shape, traced, grant, policy, release_output, key),
        checks.personal_information(release_output, policy, shape, traced, grant, key),
        checks.trade_secrets(shape, traced, grant),
        sdc,
        differenced,
        checks.cross_border(req.abroad, grant.application.abroad, policy),
    ]
    document = acro_results.build(req, job, results, shape, assessment)
    write_bytes(folder / acro_results.NAME,
                json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8"), key,
                acro_results.NAME)
    data.put(relative)
    return results


def _cell_rules(session: Session, policy: Policy, data: Storage, secret: bytes,
                req: EgressRequest, job: Job, grant: Grant, folder: Path, output: Path,
                key: bytes | None = None) -> tuple[dict[str, Any], cells.Shape, disclosure.Assessment | None,
                           CheckResult, CheckResult, Path]:
    """Disclosure control and differencing of an output's cells, over statistics of a second
    run of its job (mitigated as asked): the lineage, the shape, the assessment, the two
    checks, and the file a release would carry."""
    traced = checks.lineage(session, job)
    rules = policy.egress_disclosure
    # Every dataset of the grant carries its contributors in the statistics run.
    # ... and so does every own table of the merchant (by its person key, else each row).
    persons = {item.dataset_version.dataset.name for item in grant.items} | {
        name for name, source in (job.sources or {}).items() if source.get("kind") == "own"}
    shape = cells.analyse(job.sql, [c["name"] for c in job.output_schema or []],
                          int(rules["nk_n"]), persons)
    assessment, stats, problem = None, None, None
    if shape.kind == "aggregate":
        try:
            from sandbox.rerun import over_job_inputs

            stats = align(output, over_job_inputs(session, data, policy, secret, job,
                                                  shape.stats_sql), shape.keys, key)
            if stats is None:
                problem = ("disclosure.not_reproduced", {})
            else:
                if shape.dominance_sql:  # dominance over persons' totals, not rows
                    stats = cells.dominance(shape, stats, over_job_inputs(
                        session, data, policy, secret, job, shape.dominance_sql),
                        int(rules["nk_n"]))
                assessment = disclosure.assess(shape, stats, rules)
        except SandboxError as exc:
            problem = ("disclosure.not_computed", {"error": exc.message})
    hidden = mitigate.hidden_cells(shape, stats, assessment) \
        if assessment is not None and "suppress" in req.mitigation else {}
    found, recovered, compared = [], [], 0
    if stats is not None:
        sources = differencing.key_sources(shape, traced)
        rows_hidden = np.zeros(stats.num_rows, dtype=bool)
        for mask in hidden.values():
            rows_hidden |= mask
        mine = differencing.fingerprint(shape, stats, sources, rows_hidden.tolist())
        differencing.save(folder / "cells.parquet", mine, records_key(session, key))
        earlier, released = _earlier_fingerprints(session, data, req, set(job.sources or {}))
        compared = len(earlier)
        found = differencing.compare(mine, earlier, policy.differencing_threshold)
        recovered = differencing.recoverable(
            mine, {k: t for k, t in earlier.items() if k in released},
            {k: t for k, t in earlier.items() if k not in released})
    release_output, done = output, {}
    sdc = checks.disclosure(shape, assessment, problem)
    if req.mitigation != "none" and assessment is not None:
        release_output = folder / "output.parquet"
        done = mitigate.apply(output, release_output, shape, stats, assessment, req.mitigation,
                              int(rules["round_base"]), hidden, key)
        req.mitigated_path = f"{folder_of(req.id)}/output.parquet"
        if sdc.verdict == checks.FAIL and "suppress" in req.mitigation:
            sdc.verdict = checks.REVIEW
            sdc.code = "disclosure.suppressed"
            sdc.args.update(suppressed=done["suppressed"], secondary=done["secondary"])
        sdc.details["mitigation"] = {"method": req.mitigation, **done}
    differenced = checks.differencing(found, policy.differencing_threshold, compared,
                                      recovered) if stats is not None else CheckResult(
        "differencing", checks.PASS, "differencing.row") if shape.kind == "row" else \
        CheckResult("differencing", checks.FAIL, *(problem or (shape.reason, shape.args)))
    return traced, shape, assessment, sdc, differenced, release_output


def records_key(session: Session, grant_key: bytes | None) -> bytes | None:
    """The key of a fingerprint: the egress records' own (made on first use) when the grant's
    data is encrypted. Not the grant's: a released output's fingerprint outlives its grant
    (later requests are compared with it), and the grant's key dies with the grant."""
    if grant_key is None:
        return None
    return vault_keys.get(session, "egress", 0) or vault_keys.create(session, "egress", 0)


def align(output: Path, stats: pa.Table, keys: list[str],
          key: bytes | None = None) -> pa.Table | None:
    """The statistics rows in the output file's row order, or None when the statistics run
    did not reproduce the file: other rows (a LIMIT over ties chose others) or other values
    in any output column. The checks then assess what is released, not a re-run."""
    released = read_table(output, key)
    if released.num_rows != stats.num_rows:
        return None
    aligned = stats if not keys else _by_keys(released, stats, keys)
    if aligned is None:
        return None
    try:
        again = aligned.select(released.column_names).cast(released.schema)
    except (pa.ArrowException, KeyError):
        return None
    return aligned if all(_same(again.column(c), released.column(c))
                          for c in released.column_names) else None


def _same(again: pa.ChunkedArray, released: pa.ChunkedArray) -> bool:
    """Equal values; floating-point ones within a relative 1e-9 (a parallel sum adds in
    another order at each run)."""
    if not pa.types.is_floating(released.type):
        return again.equals(released)
    a = again.to_numpy(zero_copy_only=False).astype(float)
    b = released.to_numpy(zero_copy_only=False).astype(float)
    return bool(np.array_equal(np.isnan(a), np.isnan(b))
                and np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))


def _by_keys(released: pa.Table, stats: pa.Table, keys: list[str]) -> pa.Table | None:
    rows = stats.num_rows
    con = duckdb.connect()
    con.register("s", stats.append_column("tds__i", pa.array(range(rows))))
    con.register("o", released.append_column("tds__o", pa.array(range(released.num_rows))))
    on = " AND ".join(f'o."{k}" IS NOT DISTINCT FROM s."{k}"' for k in
                      (k.replace('"', '""') for k in keys))
    pairs = con.execute(f"SELECT tds__o, tds__i FROM o JOIN s ON {on} ORDER BY tds__o").fetchall()
    if len(pairs) != rows or len({i for _, i in pairs}) != rows:
        return None
    return stats.take(pa.array([i for _, i in pairs]))


def _earlier_fingerprints(session: Session, data: Storage, req: EgressRequest,
                          datasets: set[str]) -> tuple[dict[str, pa.Table], set[str]]:
    """The fingerprints to compare ``req``'s cells with: every other request of its own
    organization (drafts, withdrawn and rejected ones too: their checks told the merchant
    something of their cells) and the released outputs of other organizations, over the same
    datasets; and the labels of those released."""
    found, released = {}, set()
    records = vault_keys.get(session, "egress", 0)
    query = select(EgressRequest).where(EgressRequest.id != req.id, or_(
        EgressRequest.org == req.org, EgressRequest.status == "released"))
    for other in session.scalars(query.order_by(EgressRequest.id)):
        job = session.get(Job, other.job_id)
        if not datasets & set(checks.datasets_read(session, job)):
            continue
        label = f"egress:{other.id}" if other.org == req.org else \
            f"a release of another organization ({other.id})"
        with contextlib.suppress(FileNotFoundError):
            path = data.fetch(f"{folder_of(other.id)}/cells.parquet")
            found[label] = read_table(path, records)
            if other.status == "released":
                released.add(label)
    return found, released
