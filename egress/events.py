"""Ledger events of egress: requests and their moves, votes, releases and downloads, with the
model of each payload. Comments and reasons are counted, never kept: the reviewers' texts stay
in the request's own tables."""

from typing import Literal

from pydantic import Field

from egress.states import EgressStatus
from lineage.events import Payload, event


class Requested(Payload):
    job_id: int
    product: str
    declared_sources: list[str]
    abroad: bool
    required_approvals: int
    mitigation: str
    checks: dict[str, str]  # check -> verdict
    exceptions: list[str]  # the checks the merchant expects to fail


class Updated(Payload):
    job_id: int
    round: int
    mitigation: str
    checks: dict[str, str]
    exceptions: list[str]
    comment_chars: int


class Escalated(Payload):
    deadline: str
    votes_in: int


class Moved(Payload):
    before: str = Field(alias="from")
    round: int
    reason: Literal["grant expired", "grant revoked"] | None = None  # withdrawn by the platform
    reason_chars: int | None = None  # withdrawn by the merchant, with a reason
    comment_chars: int | None = None  # returned for changes
    approvals: int | None = None
    release_id: int | None = None


class Voted(Payload):
    round: int
    comment_chars: int
    overrides: list[str]  # the failing checks the reviewer accepts; the reasons stay in the vote
    checklist: dict[str, Literal["yes", "no", "n/a"]]


class Downloaded(Payload):
    format: str = "bundle"  # bundle (the signed zip), csv or xlsx


class Released(Payload):
    request_id: int
    product_no: str
    manifest_sha256: str
    sources: list[str]
    job_id: int


EGRESS_DRAFTED = event("egress.drafted", "egress", "a request kept as a draft", Requested)
EGRESS_REQUESTED = event("egress.requested", "egress", "a request, with its checks' verdicts",
                         Requested)
EGRESS_UPDATED = event("egress.updated", "egress", "a request resubmitted; checks ran again",
                       Updated)
EGRESS_ESCALATED = event("egress.escalated", "egress", "a review past its deadline", Escalated)
MOVED = {status: event(f"egress.{status.value}", "egress", f"a request became {status.value}",
                       Moved)
         for status in EgressStatus if status is not EgressStatus.DRAFT}
EGRESS_REJECTED = MOVED[EgressStatus.REJECTED]
VOTED = {decision: event(f"egress.review.{decision}", "egress", f"a reviewer's {decision} vote",
                         Voted)
         for decision in ("approve", "reject", "return")}
RELEASE_CREATED = event("release.created", "release", "a signed release bundle", Released)
RELEASE_DOWNLOADED = event("release.downloaded", "release",
                           "a release was downloaded (its bundle, or its table as CSV/XLSX)",
                           Downloaded)
