"""The lifecycle of an egress request.

    draft -> submitted -> in_review -> returned -> submitted (a new round) ...
    in_review -> approved -> released            (a first vote moves submitted to in_review)
    in_review -> rejected                        (final)
    draft | submitted | in_review | returned -> withdrawn   (final)

A request in review may also be updated by the merchant (submitted again, a new round).
"""

from __future__ import annotations

from enum import StrEnum

from policies.lifecycle import Lifecycle


class EgressStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    RELEASED = "released"


_E = EgressStatus
EGRESS = Lifecycle("egress request", {
    _E.DRAFT: (_E.SUBMITTED, _E.WITHDRAWN),
    _E.SUBMITTED: (_E.IN_REVIEW, _E.WITHDRAWN),
    _E.IN_REVIEW: (_E.APPROVED, _E.REJECTED, _E.RETURNED, _E.SUBMITTED, _E.WITHDRAWN),
    _E.RETURNED: (_E.SUBMITTED, _E.WITHDRAWN),
    _E.APPROVED: (_E.RELEASED,),
    _E.REJECTED: (), _E.WITHDRAWN: (), _E.RELEASED: (),
})
AWAITING_REVIEW = (EgressStatus.SUBMITTED, EgressStatus.IN_REVIEW)
