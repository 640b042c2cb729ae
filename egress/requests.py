"""Egress requests: creation with automatic checks, reviews, release and download."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import names
from catalog.models import Grant, utcnow
from egress import checks
from egress.bundle import PROOF, write_bundle, write_proof
from egress.errors import Conflict, InvalidRequest, NotFound, ReviewRefused
from egress.models import EgressRequest, EgressReview, Release
from lineage import LedgerEvent, Signer, append, proofs
from lineage.base import on_rollback
from policies import Actor, Policy, Role, require
from sandbox.models import Job


def request(session: Session, actor: Actor, policy: Policy, home: Path, job_id: int,
            product: str, purpose: str, sources: list[str], abroad: bool = False) -> EgressRequest:
    require(actor, Role.MERCHANT)
    job = session.get(Job, job_id)
    if job is None or job.org != actor.org:
        raise NotFound(f"no job {job_id}")
    if job.status != "succeeded" or job.target != "real":
        raise InvalidRequest(f"job {job_id} has no real output to release (status {job.status})")
    product = names.text(product, "product name", 200)
    purpose = names.text(purpose, "purpose", 5000, multiline=True)
    if not isinstance(sources, list) or not sources:
        raise InvalidRequest("declare the datasets the product is derived from")
    declared = sorted({names.text(str(s), "source", 100) for s in sources})
    grant = session.get(Grant, job.grant_id)
    open_request = session.scalar(select(EgressRequest.id).where(
        EgressRequest.job_id == job.id, EgressRequest.status.in_(("submitted", "approved"))))
    if open_request is not None:
        raise Conflict(f"egress request {open_request} for job {job_id} is open already")
    results = checks.run_all(session, policy, home, grant, job, product, purpose, declared,
                             bool(abroad))
    levels = [item.dataset_version.dataset.level for item in grant.items]
    needed = max(policy.level(level).reviewers for level in levels)
    if abroad or grant.application.abroad:
        needed += policy.cross_border_extra_approvals
    req = EgressRequest(job_id=job.id, grant_id=grant.id, org=job.org, requested_by=actor.id,
                        product=product, purpose=purpose, declared_sources=declared,
                        abroad=bool(abroad), checks=[r.as_dict() for r in results],
                        required_approvals=needed)
    session.add(req)
    session.flush()
    append(session, actor, "egress.requested", f"egress:{req.id}", {
        "job_id": job.id, "product": product, "declared_sources": declared,
        "abroad": bool(abroad), "required_approvals": needed,
        "checks": {r.name: r.verdict for r in results},
    })
    return req


def get(session: Session, actor: Actor, request_id: int) -> EgressRequest:
    require(actor, Role.MERCHANT, Role.REVIEWER, Role.ADMIN)
    req = session.get(EgressRequest, request_id)
    if req is None or (actor.role == Role.MERCHANT and req.org != actor.org):
        raise NotFound(f"no egress request {request_id}")
    return req


def list_requests(session: Session, actor: Actor, status: str | None = None) -> list[EgressRequest]:
    require(actor, Role.MERCHANT, Role.REVIEWER, Role.ADMIN)
    query = select(EgressRequest).order_by(EgressRequest.id)
    if actor.role == Role.MERCHANT:
        query = query.where(EgressRequest.org == actor.org)
    if status:
        query = query.where(EgressRequest.status == status)
    return list(session.scalars(query))


def review(session: Session, actor: Actor, policy: Policy, home: Path, signer: Signer,
           request_id: int, approve: bool, comment: str) -> EgressRequest:
    """Record a reviewer's vote; the last approval needed signs and writes the release."""
    require(actor, Role.REVIEWER)
    req = get(session, actor, request_id)
    if req.status != "submitted":
        raise Conflict(f"egress request {req.id} is {req.status}, not awaiting review")
    if actor.org is None or actor.org == req.org:
        raise ReviewRefused("a reviewer may not review a request of their own organization")
    if req.requested_by == actor.id:
        raise ReviewRefused("nobody reviews their own request")
    if any(r.reviewer_id == actor.id for r in req.reviews):
        raise Conflict("you have reviewed this request already")
    comment = names.text(comment, "comment", 5000, required=True, multiline=True)
    failing = [c["name"] for c in req.checks if c["verdict"] == checks.FAIL]
    if approve and failing:
        raise ReviewRefused(f"cannot approve: automatic checks failed ({', '.join(failing)})")
    vote = EgressReview(request_id=req.id, reviewer_id=actor.id, reviewer_org=actor.org,
                        decision="approve" if approve else "reject", comment=comment)
    session.add(vote)
    req.reviews.append(vote)
    append(session, actor, f"egress.review.{vote.decision}", f"egress:{req.id}",
           {"comment_chars": len(comment)})
    if not approve:
        req.status, req.decided_at = "rejected", utcnow()
        append(session, actor, "egress.rejected", f"egress:{req.id}", {})
    elif sum(r.decision == "approve" for r in req.reviews) >= req.required_approvals:
        req.status, req.decided_at = "approved", utcnow()
        append(session, actor, "egress.approved", f"egress:{req.id}",
               {"approvals": req.required_approvals})
        _release(session, actor, home, signer, req)
    return req


def _release(session: Session, actor: Actor, home: Path, signer: Signer,
             req: EgressRequest) -> Release:
    job = session.get(Job, req.job_id)
    grant = session.get(Grant, req.grant_id)
    release = Release(request_id=req.id, product_no="pending", path="pending",
                      manifest_sha256="pending")
    session.add(release)
    session.flush()
    release.product_no = f"DP-{utcnow():%Y}-{release.id:06d}"
    relative = Path("releases") / release.product_no
    sources = checks.datasets_read(session, job)
    manifest: dict[str, Any] = {
        "release_id": release.id,
        "product": {"name": req.product, "registration_no": release.product_no,
                    "purpose": req.purpose, "abroad": req.abroad},
        "org": req.org,
        "application": {"id": grant.application_id, "scenario": grant.application.scenario},
        "grant_id": grant.id,
        "job": {"id": job.id, "sql": job.sql, "target": job.target, "rows": job.output_rows,
                "schema": job.output_schema,
                "finished_at": job.finished_at.isoformat(timespec="seconds") + "Z"},
        "sources": [dict(source, dataset=name) for name, source in sorted(sources.items())],
        "checks": req.checks,
        "approvals": [{"reviewer_id": r.reviewer_id, "org": r.reviewer_org,
                       "time": r.created_at.isoformat(timespec="seconds") + "Z"}
                      for r in req.reviews if r.decision == "approve"],
        "requested_at": req.created_at.isoformat(timespec="seconds") + "Z",
        "released_at": utcnow().isoformat(timespec="seconds") + "Z",
    }
    directory = home / relative
    release.manifest_sha256 = write_bundle(directory, home / job.output_path,
                                           _integral(manifest), signer)
    on_rollback(session, lambda: shutil.rmtree(directory, ignore_errors=True))
    release.path = str(relative)
    req.status = "released"
    event = append(session, actor, "release.created", f"release:{release.id}", {
        "request_id": req.id, "product_no": release.product_no,
        "manifest_sha256": release.manifest_sha256,
        "sources": sorted(sources), "job_id": job.id,
    })
    seq = event.seq
    # The proof needs the checkpoint this transaction's commit signs: written right after it.
    session.info.setdefault("after_commit_read", []).append(
        lambda reading: write_proof(directory, proofs.inclusion(reading, seq)))
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


def list_releases(session: Session, actor: Actor) -> list[Release]:
    require(actor, Role.MERCHANT, Role.REVIEWER, Role.ADMIN)
    query = select(Release).join(EgressRequest).order_by(Release.id)
    if actor.role == Role.MERCHANT:
        query = query.where(EgressRequest.org == actor.org)
    return list(session.scalars(query))


def download(session: Session, actor: Actor, home: Path, release_id: int) -> Path:
    """The bundle directory of a release, for the requesting organization only; logged."""
    require(actor, Role.MERCHANT)
    release = session.get(Release, release_id)
    if release is None or release.request.org != actor.org:
        raise NotFound(f"no release {release_id}")
    append(session, actor, "release.downloaded", f"release:{release.id}", {})
    directory = home / release.path
    if not (directory / PROOF).exists():  # the process stopped between commit and proof
        created = session.scalar(select(LedgerEvent.seq).where(
            LedgerEvent.action == "release.created", LedgerEvent.subject == f"release:{release.id}"))
        if created is not None:
            write_proof(directory, proofs.inclusion(session, created))
    return directory

