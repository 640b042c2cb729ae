"""Ledger events of the catalog: datasets, previews, applications and grants."""

from catalog.states import ApplicationStatus, GrantStatus
from lineage.events import event

DATASET_REGISTERED = event("dataset.registered", "dataset_version", "a dataset version")
DATASET_CLASSIFIED = event("dataset.classified", "dataset_version",
                           "the provider confirmed a version's classification")
PREVIEW_BUILDING = event("preview.building", "dataset_version", "a simulated preview started")
PREVIEW_BUILT = event("preview.built", "dataset_version", "a simulated preview is ready")
PREVIEW_FAILED = event("preview.failed", "dataset_version", "a simulated preview failed")
APPLICATION_SUBMITTED = event("application.submitted", "application", "an application")
APPLICATION_APPROVED = event("application.approved", "application", "a reviewer approved")
APPLICATION_REJECTED = event("application.rejected", "application", "a reviewer rejected")
APPLICATION_DEEMED_APPROVED = event("application.deemed_approved", "application",
                                    "overdue, approved by the policy's overdue action")
APPLICATION_ESCALATED = event("application.escalated", "application",
                              "overdue, and silence may not approve it")
GRANT_CREATED = event("grant.created", "grant", "access granted by an approval")
GRANT_EXPIRED = event("grant.expired", "grant", "a grant's period ended")
GRANT_REVOKED = event("grant.revoked", "grant", "an administrator revoked a grant")

DECIDED = {ApplicationStatus.APPROVED: APPLICATION_APPROVED,
           ApplicationStatus.REJECTED: APPLICATION_REJECTED}
DECISIONS = (APPLICATION_APPROVED, APPLICATION_REJECTED, APPLICATION_DEEMED_APPROVED)
ENDED = {GrantStatus.EXPIRED: GRANT_EXPIRED, GrantStatus.REVOKED: GRANT_REVOKED}
