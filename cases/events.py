"""Ledger events of cases: kinds, subjects, severities and counts, never the texts."""

from lineage.events import Payload, event


class Opened(Payload):
    kind: str
    subject: str | None
    severity: str | None
    org: str | None
    description_chars: int
    respond_due: str
    resolve_due: str


class Responded(Payload):
    response_chars: int
    late: bool


class Resolved(Payload):
    status: str  # upheld, dismissed or resolved
    resolution_chars: int
    late: bool


CASE_OPENED = event("case.opened", "case", "an appeal, complaint or incident was opened", Opened)
CASE_RESPONDED = event("case.responded", "case", "the platform responded to a case", Responded)
CASE_RESOLVED = event("case.resolved", "case", "a case was resolved", Resolved)
