"""Ledger events of egress: requests and their moves, votes, releases and downloads."""

from egress.states import EgressStatus
from lineage.events import event

EGRESS_DRAFTED = event("egress.drafted", "egress", "a request kept as a draft")
EGRESS_REQUESTED = event("egress.requested", "egress", "a request, with its checks' verdicts")
EGRESS_UPDATED = event("egress.updated", "egress", "a request resubmitted; checks ran again")
EGRESS_ESCALATED = event("egress.escalated", "egress", "a review past its deadline")
MOVED = {status: event(f"egress.{status.value}", "egress", f"a request became {status.value}")
         for status in EgressStatus if status is not EgressStatus.DRAFT}
EGRESS_REJECTED = MOVED[EgressStatus.REJECTED]
VOTED = {decision: event(f"egress.review.{decision}", "egress", f"a reviewer's {decision} vote")
         for decision in ("approve", "reject", "return")}
RELEASE_CREATED = event("release.created", "release", "a signed release bundle")
RELEASE_DOWNLOADED = event("release.downloaded", "release", "a release bundle was downloaded")
