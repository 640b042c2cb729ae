"""The lifecycles of applications and grants."""

from __future__ import annotations

from enum import StrEnum

from policies.lifecycle import Lifecycle


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    ESCALATED = "escalated"   # overdue, and silence may not approve it: a reviewer must decide
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"     # 退回补正: the reviewer asks the merchant to amend it
    WITHDRAWN = "withdrawn"   # by the merchant, or when a returned one is not amended in time


class CheckVerdict(StrEnum):
    """A providing department's check of its part of an application."""

    PENDING = "pending"
    AGREED = "agreed"
    REFUSED = "refused"
    DEEMED = "deemed"   # unchecked at the review deadline, and the policy deemed it approved


class IssueStatus(StrEnum):
    """A data-quality issue a merchant reported on a dataset version."""

    OPEN = "open"                  # reported, not answered yet
    ACKNOWLEDGED = "acknowledged"  # the department agrees and works on a new version
    FIXED = "fixed"                # a new version fixes it
    REJECTED = "rejected"          # the department explains why it is not an issue


class GrantStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


_A = ApplicationStatus
APPLICATIONS = Lifecycle("application", {
    _A.SUBMITTED: (_A.APPROVED, _A.REJECTED, _A.ESCALATED, _A.RETURNED, _A.WITHDRAWN),
    _A.ESCALATED: (_A.APPROVED, _A.REJECTED, _A.RETURNED, _A.WITHDRAWN),
    _A.RETURNED: (_A.SUBMITTED, _A.WITHDRAWN),
    # A rejection upheld on appeal (cases) is reviewed again.
    _A.APPROVED: (), _A.REJECTED: (_A.SUBMITTED,), _A.WITHDRAWN: (),
})
GRANTS = Lifecycle("grant", {
    GrantStatus.ACTIVE: (GrantStatus.EXPIRED, GrantStatus.REVOKED),
    GrantStatus.EXPIRED: (), GrantStatus.REVOKED: (),
})
_I = IssueStatus
ISSUES = Lifecycle("quality issue", {
    _I.OPEN: (_I.ACKNOWLEDGED, _I.FIXED, _I.REJECTED),
    _I.ACKNOWLEDGED: (_I.FIXED, _I.REJECTED),
    _I.FIXED: (), _I.REJECTED: (),
})
