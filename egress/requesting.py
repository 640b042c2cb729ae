"""Egress requests: creation with automatic checks, resubmission, withdrawal, release,
product registration and download. Votes are in :mod:`egress.review`."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import encryption, names
from catalog.models import Grant, utcnow
from catalog.workdays import add_working_days
from egress import acro_results, assess, checks, events, export, workflow
from egress.bundle import PROOF, write_bundle, write_proof
from egress.checks import CHECK_NAMES
from egress.errors import Conflict, InvalidRequest, NotFound, StorageFull
from egress.mitigate import MITIGATIONS
from egress.models import EgressRequest, Release
from egress.states import AWAITING_REVIEW
from kernel.base import on_rollback
from lineage import LedgerEvent, Signer, append, proofs
from policies import Actor, Policy, Role, storage_full
from policies.permissions import Action, permit
from sandbox.models import Job
from storage import Storage

OPEN = ("draft", "submitted", "in_review", "returned", "approved")


@dataclass(frozen=True)
class Ask:
    """What a merchant asks to release: a job's output as a named product, for a purpose, from
    declared source datasets; written exceptions for checks it expects to fail, a mitigation,
    and whether it is only a draft."""

    job_id: int
    product: str
    purpose: str
    sources: list[str]
    abroad: bool = False
    exceptions: dict[str, str] | None = None
    mitigation: str = "none"
    draft: bool = False
    context: str = ""
    controls: str = ""


@dataclass(frozen=True)
class Change:
    """A resubmission: another output, more exceptions, another mitigation (None: as it was),
    and the merchant's answer to the reviewers."""

    job_id: int | None = None
    exceptions: dict[str, str] | None = None
    mitigation: str | None = None
    comment: str = ""
    context: str | None = None
    controls: str | None = None


def request(session: Session, actor: Actor, policy: Policy, data: Storage, secret: bytes,
            ask: Ask) -> EgressRequest:
    """Ask to release a job's output. The automatic checks run at once; a draft waits for
    :func:`resubmit` (which submits it) before reviewers see it."""
    permit(actor, Action.EGRESS_REQUEST)
    job = _releasable_job(session, actor, ask.job_id)
    product = names.text(ask.product, "product name", policy.text.name_length)
    purpose = names.text(ask.purpose, "purpose", policy.text.long_length, multiline=True)
    if not isinstance(ask.sources, list) or not ask.sources:
        raise InvalidRequest("declare the datasets the product is derived from")
    declared = sorted({names.text(str(s), "source", policy.text.name_length) for s in ask.sources})
    grant = session.get(Grant, job.grant_id)
    levels = [item.dataset_version.dataset.level for item in grant.items]
    needed = max(policy.level(level).reviewers for level in levels)
    if ask.abroad or grant.application.abroad:
        needed += policy.cross_border_extra_approvals
    req = EgressRequest(job_id=job.id, grant_id=grant.id, org=job.org, requested_by=actor.id,
                        product=product, purpose=purpose, declared_sources=declared,
                        abroad=bool(ask.abroad), checks=[], required_approvals=needed,
                        round=1, status="draft", mitigation=_mitigation(ask.mitigation),
                        exceptions=_exceptions(ask.exceptions, policy.text.long_length),
                        context=_said(ask.context, "context", policy),
                        controls=_said(ask.controls, "controls", policy))
    if not ask.draft:
        _described(policy, req.context, req.controls)
    session.add(req)
    session.flush()
    results = assess.run(session, policy, data, secret, req, job)
    req.checks = [r.as_dict() for r in results]
    event = events.EGRESS_DRAFTED if ask.draft else events.EGRESS_REQUESTED
    append(session, actor, event, f"egress:{req.id}", {
        "job_id": job.id, "product": product, "declared_sources": declared,
        "abroad": bool(ask.abroad), "required_approvals": needed, "mitigation": req.mitigation,
        "checks": {r.name: r.verdict for r in results},
        "exceptions": sorted(req.exceptions or {}),
    })
    if not ask.draft:
        _submit(session, actor, policy, req)
    return req


def _releasable_job(session: Session, actor: Actor, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.org != actor.org:
        raise NotFound("no job {job_id}", job_id=job_id)
    if job.target != "real":
        raise InvalidRequest("job {job_id} ran on simulated data: only outputs of real data are "
                             "released", job_id=job_id)
    if job.status != "succeeded":
        raise InvalidRequest("job {job_id} has no real output to release (status {status})",
                             job_id=job_id, status=job.status)
    open_request = session.scalar(select(EgressRequest.id).where(
        EgressRequest.job_id == job.id, EgressRequest.status.in_(OPEN)))
    if open_request is not None:
        raise Conflict("egress request {open_request} for job {job_id} is open already",
                       open_request=open_request, job_id=job_id)
    return job


def _mitigation(value: str) -> str:
    if value not in MITIGATIONS:
        raise InvalidRequest("mitigation must be one of {mitigations}",
                             mitigations=', '.join(MITIGATIONS))
    return value


def _exceptions(raw: dict[str, str] | None, longest: int) -> dict[str, str]:
    """The merchant's written justification per failing check it asks reviewers to override."""
    out = {}
    for check, text in (raw or {}).items():
        if check not in CHECK_NAMES:
            raise InvalidRequest("no check named {check!r} (checks: {check_names})",
                                 check=check, check_names=', '.join(CHECK_NAMES))
        out[check] = names.text(text, f"justification of {check}", longest, required=True,
                                multiline=True)
    return out


def _said(value: str | None, what: str, policy: Policy) -> str:
    return names.text(value or "", what, policy.text.long_length, required=False, multiline=True)


def _described(policy: Policy, context: str, controls: str) -> None:
    """Refuse to submit without the words the policy asks of the merchant (checked before
    any check runs, so a refusal leaves nothing behind)."""
    if policy.egress.context_required and not (context and controls):
        raise InvalidRequest("describe the output for its reviewers before submitting: its "
                             "context (what it is and shows) and its controls (what was done "
                             "to make it safe to release)")


def _submit(session: Session, actor: Actor, policy: Policy, req: EgressRequest) -> None:
    workflow.move(session, actor, req, "submitted", {"round": req.round})
    now = utcnow()
    req.submitted_at = req.updated_at = now
    req.deadline = add_working_days(now.date(), policy.egress_review_working_days, policy)[0]
    req.escalated = False


def resubmit(session: Session, actor: Actor, policy: Policy, data: Storage, secret: bytes,
             request_id: int, change: Change) -> EgressRequest:
    """Submit a draft, answer a return, or update a request under review. A new output (or
    new exceptions or mitigation) re-runs the checks, and every vote of the earlier round is
    void: reviewers vote again on what will actually leave."""
    permit(actor, Action.EGRESS_REQUEST)
    req = get(session, actor, request_id)
    if req.status not in ("draft", "returned", "submitted", "in_review"):
        raise Conflict("egress request {id} is {status}; it cannot be resubmitted",
                       id=req.id, status=req.status)
    job = session.get(Job, req.job_id)
    job_id, exceptions, mitigation = change.job_id, change.exceptions, change.mitigation
    if job_id is not None and job_id != req.job_id:
        job = _releasable_job(session, actor, job_id)
        if job.grant_id != req.grant_id:
            raise InvalidRequest("the new output must come from the same grant")
        req.job_id = job.id
    if exceptions is not None:
        req.exceptions = {**(req.exceptions or {}), **_exceptions(exceptions, policy.text.long_length)}
    if mitigation is not None:
        req.mitigation = _mitigation(mitigation)
    if change.context is not None:
        req.context = _said(change.context, "context", policy)
    if change.controls is not None:
        req.controls = _said(change.controls, "controls", policy)
    _described(policy, req.context, req.controls)
    comment = names.text(change.comment, "comment", policy.text.long_length, multiline=True) \
        if change.comment else ""
    if req.status != "draft":
        req.round += 1
    results = assess.run(session, policy, data, secret, req, job)
    req.checks = [r.as_dict() for r in results]
    append(session, actor, events.EGRESS_UPDATED, f"egress:{req.id}", {
        "job_id": job.id, "round": req.round, "mitigation": req.mitigation,
        "checks": {r.name: r.verdict for r in results},
        "exceptions": sorted(req.exceptions or {}), "comment_chars": len(comment),
    })
    if req.status != "submitted":
        _submit(session, actor, policy, req)
    else:
        req.updated_at = utcnow()
    return req


def withdraw(session: Session, actor: Actor, policy: Policy, request_id: int,
             reason: str = "") -> EgressRequest:
    permit(actor, Action.EGRESS_REQUEST)
    req = get(session, actor, request_id)
    reason = names.text(reason, "reason", policy.text.reason_length, multiline=True) if reason else ""
    workflow.move(session, actor, req, "withdrawn", {"reason_chars": len(reason)})
    req.withdrawal_reason = reason or None
    req.decided_at = utcnow()
    return req


def get(session: Session, actor: Actor, request_id: int) -> EgressRequest:
    permit(actor, Action.EGRESS_READ)
    req = session.get(EgressRequest, request_id)
    if req is None or (actor.role == Role.MERCHANT and req.org != actor.org):
        raise NotFound("no egress request {request_id}", request_id=request_id)
    return req


def view(req: EgressRequest, actor: Actor) -> dict[str, Any]:
    """A request as ``actor`` may see it: votes stay blind to reviewers until all are in (or
    the request left review); merchants see public comments only, admins everything."""
    undecided = req.status in AWAITING_REVIEW
    if actor.role in (Role.ADMIN, Role.REGULATOR):  # auditors see the whole record
        return req.as_dict(reveal_votes=True, private=True)
    if actor.role == Role.REVIEWER:
        blind = undecided and len(req.current_votes()) < req.required_approvals
        data = req.as_dict(reveal_votes=not blind, private=not blind)
        if blind:
            data["my_vote"] = next((r.as_dict(True) for r in req.current_votes()
                                    if r.reviewer_id == actor.id), None)
        return data
    data = req.as_dict(reveal_votes=not undecided)
    if data["reviews"] is not None:  # reviewers' identities stay with the platform
        data["reviews"] = [{k: v for k, v in r.items() if k not in ("reviewer_id", "checklist")}
                           for r in data["reviews"]]
    return data


def list_requests(session: Session, actor: Actor, status: str | None = None) -> list[EgressRequest]:
    permit(actor, Action.EGRESS_READ)
    query = select(EgressRequest).order_by(EgressRequest.id)
    if actor.role == Role.MERCHANT:
        query = query.where(EgressRequest.org == actor.org)
    elif actor.role == Role.REVIEWER:
        query = query.where(EgressRequest.status != "draft").order_by(None).order_by(
            EgressRequest.deadline, EgressRequest.id)
    if status:
        query = query.where(EgressRequest.status == status)
    return list(session.scalars(query))


def release_approved(session: Session, actor: Actor, data: Storage, signer: Signer,
                     req: EgressRequest) -> Release:
    """Sign and write the bundle of an approved request (called by the last approval)."""
    job = session.get(Job, req.job_id)
    grant = session.get(Grant, req.grant_id)
    release = Release(request_id=req.id, product_no="pending", path="pending",
                      manifest_sha256="pending")
    session.add(release)
    session.flush()
    release.product_no = f"DP-{utcnow():%Y}-{release.id:06d}"
    relative = f"releases/{release.product_no}"
    sources = checks.datasets_read(session, job)
    manifest: dict[str, Any] = {
        "release_id": release.id,
        "product": {"name": req.product, "registration_no": release.product_no,
                    "purpose": req.purpose, "abroad": req.abroad, "context": req.context,
                    "controls": req.controls},
        "org": req.org,
        "application": {"id": grant.application_id, "scenario": grant.application.scenario},
        "grant_id": grant.id,
        "job": {"id": job.id, "sql": job.sql, "target": job.target, "rows": job.output_rows,
                "schema": job.output_schema,
                "finished_at": job.finished_at.isoformat(timespec="seconds") + "Z"},
        "sources": [dict(source, dataset=name) for name, source in sorted(sources.items())],
        "checks": [{k: v for k, v in c.items() if k != "details"} for c in req.checks],
        "mitigation": req.mitigation, "exceptions": req.exceptions or {},
        "approvals": [{"reviewer_id": r.reviewer_id, "org": r.reviewer_org, "round": r.round,
                       "overrides": r.overrides or {},
                       "time": r.created_at.isoformat(timespec="seconds") + "Z"}
                      for r in req.current_votes() if r.decision == "approve"],
        "requested_at": req.created_at.isoformat(timespec="seconds") + "Z",
        "released_at": utcnow().isoformat(timespec="seconds") + "Z",
    }
    own = checks.own_read(session, job)
    if own:
        # The merchant's own tables the product was made with: their hashes, never their rows.
        manifest["own_data"] = [{"table": name, "own_id": source.get("own_id"),
                                 "sha256": source.get("sha256")}
                                for name, source in sorted(own.items())]
    if job.dp is not None:
        # A differentially private output: its guarantee travels with it.
        manifest["differential_privacy"] = {
            k: job.dp.get(k) for k in ("epsilon", "delta", "unit", "contributions",
                                       "composition", "mechanisms", "scales",
                                       "quantile_candidates", "library")}
    # A folder left by a process killed before its commit (the number is this uncommitted
    # release's, so no committed release owns it) is written anew.
    data.remove(relative)
    directory = data.local(relative)
    shutil.rmtree(directory, ignore_errors=True)
    output = data.fetch(req.mitigated_path or job.output_path)
    extra = []
    with contextlib.suppress(FileNotFoundError):
        extra.append(data.fetch(f"{assess.folder_of(req.id)}/{acro_results.NAME}"))
    on_rollback(session, lambda: data.remove(relative))  # a bundle stored in part, too
    try:
        # The bundle leaves the platform: it carries the files in the clear.
        release.manifest_sha256 = write_bundle(directory, output, _integral(manifest), signer,
                                               extra, encryption.grant_key(session, job.grant_id))
        data.put(relative)
    except OSError as exc:
        if storage_full(exc):
            raise StorageFull("the release storage is full: the release bundle could not be "
                              "written, so this approval was not recorded and the request "
                              "stays in review; ask the platform's operators for space, then "
                              "approve again") from exc
        raise
    release.path = relative
    workflow.move(session, actor, req, "released", {"release_id": release.id})
    event = append(session, actor, events.RELEASE_CREATED, f"release:{release.id}", {
        "request_id": req.id, "product_no": release.product_no,
        "manifest_sha256": release.manifest_sha256,
        "sources": sorted(sources), "job_id": job.id,
    }, now=True)  # chained in this transaction: the proof below needs its place
    seq = event.seq
    # The proof needs the checkpoint this transaction's commit signs: written right after it.
    session.info.setdefault("after_commit_read", []).append(
        lambda reading: _proved(data, relative, proofs.inclusion(reading, seq)))
    return release


def _integral(value: Any) -> Any:
    """Signed manifests carry no floats: check details with fractions become strings."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def products(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Registered data products: each release's registration number linked to the
    registration numbers of the datasets it was derived from."""
    out = []
    for release in list_releases(session, actor):
        job = session.get(Job, release.request.job_id)
        sources = checks.datasets_read(session, job)
        out.append({**release.as_dict(), "sources": [
            {"dataset": name, "registration_no": s["registration_no"], "version": s["version"]}
            for name, s in sorted(sources.items())]})
    return out


def list_releases(session: Session, actor: Actor) -> list[Release]:
    permit(actor, Action.RELEASE_READ)
    query = select(Release).join(EgressRequest).order_by(Release.id)
    if actor.role == Role.MERCHANT:
        query = query.where(EgressRequest.org == actor.org)
    return list(session.scalars(query))


def remove_orphans(session: Session, data: Storage, older_than: dt.timedelta) -> list[str]:
    """Delete release folders no committed release owns, left by a process killed between
    writing a bundle and committing it; only folders older than ``older_than``, as a younger
    one may belong to a transaction still under way."""
    owned = set(session.scalars(select(Release.path)))
    cutoff = time.time() - older_than.total_seconds()
    removed = []
    for folder, written in data.folders("releases").items():
        if folder not in owned and written < cutoff:
            data.remove(folder)
            removed.append(folder)
    return removed


def download(session: Session, actor: Actor, data: Storage, release_id: int,
             fmt: str = "bundle") -> Path:
    """The bundle directory of a release, for the requesting organization only; each download
    logged with its format (the bundle, or its table as CSV or XLSX)."""
    permit(actor, Action.RELEASE_DOWNLOAD)
    fmt = export.checked_format(fmt)
    release = session.get(Release, release_id)
    if release is None or release.request.org != actor.org:
        raise NotFound("no release {release_id}", release_id=release_id)
    append(session, actor, events.RELEASE_DOWNLOADED, f"release:{release.id}", {"format": fmt})
    if not data.exists(f"{release.path}/{PROOF}"):  # stopped between commit and proof
        created = session.scalar(select(LedgerEvent.seq).where(
            LedgerEvent.action == events.RELEASE_CREATED, LedgerEvent.subject == f"release:{release.id}"))
        if created is not None:
            _proved(data, release.path, proofs.inclusion(session, created))
    return data.fetch(release.path)


def _proved(data: Storage, relative: str, proof: dict[str, Any]) -> None:
    """Add the ledger's inclusion proof to the stored bundle ``relative``."""
    data.local(relative).mkdir(parents=True, exist_ok=True)
    write_proof(data.local(relative), proof)
    data.put(f"{relative}/{PROOF}")

