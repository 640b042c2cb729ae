"""The kinds of cases and their lifecycle."""

from __future__ import annotations

from enum import StrEnum

from policies.lifecycle import Lifecycle


class CaseKind(StrEnum):
    APPEAL = "appeal"        # against the rejection of an application of the opener's org
    COMPLAINT = "complaint"  # about the platform's operation, a decision or another party
    INCIDENT = "incident"    # a security incident (data exposure, misuse, intrusion)


class CaseStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"  # the platform responded and is handling it
    UPHELD = "upheld"            # resolved in the opener's favour (an appeal: reviewed again)
    DISMISSED = "dismissed"      # resolved against it, with reasons
    RESOLVED = "resolved"        # an incident handled and closed


_S = CaseStatus
CASES = Lifecycle("case", {
    _S.OPEN: (_S.IN_PROGRESS, _S.UPHELD, _S.DISMISSED, _S.RESOLVED),
    _S.IN_PROGRESS: (_S.UPHELD, _S.DISMISSED, _S.RESOLVED),
    _S.UPHELD: (), _S.DISMISSED: (), _S.RESOLVED: (),
})
OPEN = (_S.OPEN, _S.IN_PROGRESS)
SEVERITIES = ("low", "medium", "high", "critical")
