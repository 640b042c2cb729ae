"""Egress: requests, automatic checks, reviews, signed release bundles and their verification."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies import Actor
from sandbox import jobs


def reviewable_jobs(session: Session, actor: Actor) -> set[int]:
    """Jobs of the egress requests sent for review that ``actor`` (a reviewer) may review:
    submitted ones (never drafts), of another organization than the reviewer's."""
    from egress.models import EgressRequest

    query = select(EgressRequest.job_id).where(EgressRequest.status != "draft")
    if actor.org is not None:
        query = query.where(EgressRequest.org != actor.org)
    return set(session.scalars(query))


jobs.reviewable_jobs = reviewable_jobs
