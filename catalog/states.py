"""The lifecycles of applications and grants."""

from __future__ import annotations

from enum import StrEnum

from policies.lifecycle import Lifecycle


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    ESCALATED = "escalated"   # overdue, and silence may not approve it: a reviewer must decide
    APPROVED = "approved"
    REJECTED = "rejected"


class GrantStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


_A = ApplicationStatus
APPLICATIONS = Lifecycle("application", {
    _A.SUBMITTED: (_A.APPROVED, _A.REJECTED, _A.ESCALATED),
    _A.ESCALATED: (_A.APPROVED, _A.REJECTED),
    _A.APPROVED: (), _A.REJECTED: (),
})
GRANTS = Lifecycle("grant", {
    GrantStatus.ACTIVE: (GrantStatus.EXPIRED, GrantStatus.REVOKED),
    GrantStatus.EXPIRED: (), GrantStatus.REVOKED: (),
})
