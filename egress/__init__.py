"""Egress: requests, automatic checks, reviews, signed release bundles and their verification."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import applications
from catalog.models import utcnow
from kernel.base import after_commit
from policies import Actor
from sandbox import jobs
from storage import Storage


def reviewable_jobs(session: Session, actor: Actor) -> set[int]:
    """Jobs of the egress requests sent for review that ``actor`` (a reviewer) may review:
    submitted ones (never drafts), of another organization than the reviewer's."""
    from egress.models import EgressRequest

    query = select(EgressRequest.job_id).where(EgressRequest.status != "draft")
    if actor.org is not None:
        query = query.where(EgressRequest.org != actor.org)
    return set(session.scalars(query))


jobs.reviewable_jobs = reviewable_jobs


def close_for_grant(session: Session, actor: Actor, grant: Any, data: Storage) -> None:
    """A grant ended (revoked or expired): its open egress requests are withdrawn, so no vote
    can release from a workspace that is being deleted, and their findings are deleted with
    it. Released requests keep theirs: those cells left the platform already, and later
    requests are compared with them (differencing)."""
    from egress import workflow
    from egress.assess import folder_of
    from egress.models import EgressRequest

    open_requests = session.scalars(select(EgressRequest).where(
        EgressRequest.grant_id == grant.id, EgressRequest.status.not_in(workflow.FINAL),
        EgressRequest.status != "approved").order_by(EgressRequest.id))
    for req in open_requests:
        workflow.move(session, actor, req, "withdrawn", {"reason": f"grant {grant.status}"})
        req.decided_at = utcnow()
    folders = [folder_of(i) for i in session.scalars(select(EgressRequest.id).where(
        EgressRequest.grant_id == grant.id, EgressRequest.status != "released"))]

    def delete() -> None:
        for folder in folders:
            data.remove(folder)

    after_commit(session, delete)


applications.GRANT_END_HOOKS.append(close_for_grant)
