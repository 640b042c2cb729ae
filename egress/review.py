"""Reviewers' votes on egress requests, and the sweep that escalates overdue reviews.

A vote is independent and blind: reviewers do not see each other's votes until all the votes the
request needs are in. Nobody reviews a request of their own organization or one they wrote.
Approving needs the six review points of the Measures answered on the checklist, and every
failing check overridden with a reason, for which the merchant must have asked in writing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import names
from catalog.models import utcnow
from egress import events, requesting, workflow
from egress.checks import FAIL
from egress.errors import Conflict, InvalidRequest, ReviewRefused
from egress.models import EgressRequest, EgressReview
from egress.states import AWAITING_REVIEW
from lineage import Signer, append
from policies import SYSTEM, Actor, Policy
from policies.permissions import Action, permit
from storage import Storage

# The six review points of the Measures (art. on egress review) and what each asks.
REVIEW_POINTS: dict[str, str] = {
    "purpose_scope": "the product fits the approved purpose and scope",
    "sources": "the product names its data sources",
    "raw_exposure": "no raw or sensitive data is exposed without consent",
    "personal_information_trade_secrets": "no personal information or trade secret is at risk",
    "cross_border": "any cross-border transfer is assessed and allowed",
    "other_risks": "no other risk",
}
ANSWERS = ("yes", "no", "n/a")
DECISIONS = ("approve", "reject", "return")


@dataclass(frozen=True)
class Ballot:
    """A reviewer's vote: the decision, a public comment (the merchant reads it), a private one
    (reviewers and administrators only), answers to the review points, and the failing checks
    overridden with a reason each."""

    decision: str
    comment: str
    private_comment: str = ""
    checklist: dict[str, Any] | None = None
    overrides: dict[str, str] | None = None


def vote(session: Session, actor: Actor, policy: Policy, data: Storage, signer: Signer,
         request_id: int, ballot: Ballot) -> EgressRequest:
    """Record a reviewer's vote. ``return`` sends the request back for changes (the public
    comment says what to change); one ``reject`` is final; the last approval needed signs the
    release."""
    permit(actor, Action.EGRESS_REVIEW)
    req = requesting.get(session, actor, request_id)
    decision, comment, private_comment = ballot.decision, ballot.comment, ballot.private_comment
    checklist, overrides = ballot.checklist, ballot.overrides
    if decision not in DECISIONS:
        raise InvalidRequest("decision must be one of {decisions}", decisions=', '.join(DECISIONS))
    if req.status not in AWAITING_REVIEW:
        raise Conflict("egress request {id} is {status}, not awaiting review",
                       id=req.id, status=req.status)
    if actor.org is None or actor.org == req.org:
        raise ReviewRefused("a reviewer may not review a request of their own organization")
    if req.requested_by == actor.id:
        raise ReviewRefused("nobody reviews their own request")
    if any(r.reviewer_id == actor.id for r in req.current_votes()):
        raise Conflict("you have voted on this round of the request already")
    comment = names.text(comment, "comment", policy.text.long_length, required=True,
                         multiline=True)
    private_comment = names.text(private_comment, "private comment", policy.text.long_length,
                                 multiline=True) \
        if private_comment else ""
    answers = _checklist(checklist or {}, policy.text.reason_length)
    granted = _overrides(overrides or {}, policy.text.reason_length)
    if decision == "approve":
        _may_approve(req, answers, granted)
    review = EgressReview(request_id=req.id, reviewer_id=actor.id, reviewer_org=actor.org,
                          decision=decision, round=req.round, comment=comment,
                          private_comment=private_comment, checklist=answers,
                          overrides=granted)
    session.add(review)
    req.reviews.append(review)
    append(session, actor, events.VOTED[decision], f"egress:{req.id}", {
        "round": req.round, "comment_chars": len(comment), "overrides": sorted(granted),
        "checklist": {p: a["answer"] for p, a in answers.items()},
    })
    if req.status == "submitted":
        workflow.move(session, actor, req, "in_review")
    if decision == "reject":
        workflow.move(session, actor, req, "rejected")
        req.decided_at = utcnow()
    elif decision == "return":
        workflow.move(session, actor, req, "returned", {"comment_chars": len(comment)})
    elif sum(r.decision == "approve" for r in req.current_votes()) >= req.required_approvals:
        workflow.move(session, actor, req, "approved", {"approvals": req.required_approvals})
        req.decided_at = utcnow()
        requesting.release_approved(session, actor, data, signer, req)
    return req


def _checklist(raw: dict[str, Any], longest: int) -> dict[str, dict[str, str]]:
    out = {}
    for point, entry in raw.items():
        if point not in REVIEW_POINTS:
            raise InvalidRequest("no review point {point!r} (points: {review_points})",
                                 point=point, review_points=', '.join(REVIEW_POINTS))
        answer, note = (entry.get("answer"), entry.get("comment", "")) if isinstance(entry, dict) \
            else (entry, "")
        if answer not in ANSWERS:
            raise InvalidRequest("the answer to {point} must be one of {answers}",
                                 point=point, answers=', '.join(ANSWERS))
        out[point] = {"answer": answer,
                      "comment": names.text(note, "comment on a review point", longest,
                                                 multiline=True)
                      if note else ""}
    return out


def _overrides(raw: dict[str, str], longest: int) -> dict[str, str]:
    return {check: names.text(reason, "reason to override a check", longest, required=True,
                              multiline=True) for check, reason in raw.items()}


def _may_approve(req: EgressRequest, answers: dict[str, dict[str, str]],
                 granted: dict[str, str]) -> None:
    missing = [p for p in REVIEW_POINTS if p not in answers]
    if missing:
        raise ReviewRefused("answer every review point before approving (missing: {points})",
                            points=", ".join(missing))
    unmet = [p for p, a in answers.items() if a["answer"] == "no"]
    if unmet:
        raise ReviewRefused("review points answered 'no' ({unmet}): return or reject",
                            unmet=', '.join(unmet))
    for point, entry in answers.items():
        if not entry["comment"]:
            raise ReviewRefused("comment on each review point (missing on {point})", point=point)
    failing = [c["name"] for c in req.checks if c["verdict"] == FAIL]
    unknown = sorted(set(granted) - set(failing))
    if unknown:
        raise ReviewRefused("only failing checks can be overridden, not {unknown}",
                            unknown=', '.join(unknown))
    for check in failing:
        if check not in (req.exceptions or {}):
            raise ReviewRefused("cannot approve: the {check} check failed and the merchant asked for "
                                "no exception (a written justification)",
                                check=check)
        if check not in granted:
            raise ReviewRefused("cannot approve: the {check} check failed; override it explicitly "
                                "with a reason (--override CHECK --reason ...)",
                                check=check)


def sweep(session: Session, policy: Policy, now: dt.datetime | None = None) -> list[int]:
    """Escalate reviews past their deadline (never approve them): one event each."""
    today = (now or utcnow()).date()
    late = list(session.scalars(select(EgressRequest).where(
        EgressRequest.status.in_([s.value for s in AWAITING_REVIEW]), EgressRequest.deadline < today,
        EgressRequest.escalated.is_(False))))
    for req in late:
        req.escalated = True
        append(session, SYSTEM, events.EGRESS_ESCALATED, f"egress:{req.id}",
               {"deadline": req.deadline.isoformat(), "votes_in": len(req.current_votes())})
    return [r.id for r in late]
