"""Ledger events of the catalog: datasets, previews, applications and grants, with the model of
each payload. Datasets and columns appear by name; their values never do."""

from catalog.states import ApplicationStatus, GrantStatus
from lineage.events import Payload, event


class Registered(Payload):
    dataset: str
    registration_no: str
    version: int
    sha256: str
    rows: int
    columns: list[str]
    level: str
    suggested_level: str
    attribute: str
    classification: str  # suggested, or confirmed: the scan suggests what the provider confirmed


class Override(Payload):
    suggested: str | None
    confirmed: str | None


class Classified(Payload):
    dataset: str
    version: int
    level: str
    suggested_level: str | None
    overridden: dict[str, Override]  # column -> the scan's entity and the provider's
    entities: dict[str, str]  # column -> entity type
    quasi_identifiers: list[str]
    confidential: list[str]
    person_key: str | None


class PreviewBuilt(Payload):
    rows: int
    quality: str
    exact_row_matches: int
    reused_identifier_values: int


class PreviewFailed(Payload):
    reason: str  # the class of the failure as the builder words it, at most 200 characters


class Item(Payload):
    """A dataset version in an application or a grant, with the columns asked for."""
    dataset: str
    version: int
    registration_no: str
    columns: list[str]
    raw_columns: list[str]


class Submitted(Payload):
    org: str
    scenario: str
    months: int
    abroad: bool
    deadline: str
    deadline_calendar_exact: bool
    items: list[Item]


class Decided(Payload):
    comment_chars: int
    assessment: dict[str, str] | None = None  # the reviewer's ratings (catalog.reviews)


class Checked(Payload):
    dataset: str
    verdict: str  # agreed or refused
    assessment: dict[str, str]
    comment_chars: int


class Attached(Payload):
    attachment_id: int
    kind: str
    bytes: int
    sha256: str
    replaced: list[int]  # attachments of the same kind this one replaced


class Detached(Payload):
    attachment_id: int
    kind: str


class Returned(Payload):
    comment_chars: int
    assessment: dict[str, str] | None = None
    amend_by: str  # the date by which the merchant amends it, or it is withdrawn


class Withdrawn(Payload):
    by: str  # "merchant", or "sweep" when a returned application was not amended in time


class Overdue(Payload):
    deadline: str


class ConsentRequired(Payload):
    dataset: str
    required: bool
    person_key: str | None  # the column whose values the consents name


class ConsentRecorded(Payload):
    dataset: str
    records: int
    superseded: int  # earlier consents of the same persons the new ones replaced
    batch_sha256: str  # of the batch's sorted person digests: which batch, not who
    first_id: int
    last_id: int


class ConsentWithdrawn(Payload):
    dataset: str
    consent_ids: list[int]


class QualityReported(Payload):
    dataset: str
    version: int
    kind: str
    columns: list[str]
    description_chars: int
    answer_due: str
    fix_due: str


class QualityAnswered(Payload):
    status: str  # acknowledged or rejected
    reply_chars: int
    late: bool  # after the answer deadline


class QualityFixed(Payload):
    dataset: str
    version: int  # the version that fixes it
    reply_chars: int
    late: bool  # after the fix deadline


class Reopened(Payload):
    because: str  # the upheld appeal (case:ID)
    deadline: str


class GrantCreated(Payload):
    application_id: int
    org: str
    expires_at: str
    items: list[Item]
    agreement_sha256: str | None = None  # the operation agreement to accept


class AgreementAccepted(Payload):
    sha256: str


class GrantEnded(Payload):
    workspace_deleted: bool
    reason_chars: int


DATASET_REGISTERED = event("dataset.registered", "dataset_version", "a dataset version",
                           Registered)
DATASET_CLASSIFIED = event("dataset.classified", "dataset_version",
                           "the provider confirmed a version's classification", Classified)
PREVIEW_BUILDING = event("preview.building", "dataset_version", "a simulated preview started")
PREVIEW_BUILT = event("preview.built", "dataset_version", "a simulated preview is ready",
                      PreviewBuilt)
PREVIEW_FAILED = event("preview.failed", "dataset_version", "a simulated preview failed",
                       PreviewFailed)
APPLICATION_SUBMITTED = event("application.submitted", "application", "an application",
                              Submitted)
APPLICATION_APPROVED = event("application.approved", "application", "a reviewer approved",
                             Decided)
APPLICATION_REJECTED = event("application.rejected", "application", "a reviewer rejected",
                             Decided)
APPLICATION_RETURNED = event("application.returned", "application",
                             "a reviewer returned it for amendment (退回补正)", Returned)
APPLICATION_AMENDED = event("application.amended", "application",
                            "the merchant amended and resubmitted it", Submitted)
APPLICATION_CHECKED = event("application.checked", "application",
                            "a providing department checked its dataset's part (核查)", Checked)
APPLICATION_ATTACHED = event("application.attached", "application",
                             "the merchant filed a document with it", Attached)
APPLICATION_DETACHED = event("application.detached", "application",
                             "the merchant took a document back", Detached)
APPLICATION_WITHDRAWN = event("application.withdrawn", "application", "it was withdrawn",
                              Withdrawn)
APPLICATION_DEEMED_APPROVED = event("application.deemed_approved", "application",
                                    "overdue, approved by the policy's overdue action", Overdue)
APPLICATION_ESCALATED = event("application.escalated", "application",
                              "overdue, and silence may not approve it", Overdue)
CONSENT_REQUIRED = event("consent.required", "dataset",
                         "a dataset is (or no longer is) used with its subjects' consent",
                         ConsentRequired)
CONSENT_RECORDED = event("consent.recorded", "dataset", "consents were filed",
                         ConsentRecorded)
CONSENT_WITHDRAWN = event("consent.withdrawn", "dataset", "consents were withdrawn",
                          ConsentWithdrawn)
QUALITY_REPORTED = event("quality.reported", "quality",
                         "a merchant reported a data-quality issue on a dataset version",
                         QualityReported)
QUALITY_ANSWERED = event("quality.answered", "quality",
                         "the providing department acknowledged or rejected it",
                         QualityAnswered)
QUALITY_FIXED = event("quality.fixed", "quality", "a new dataset version fixed it",
                      QualityFixed)
APPLICATION_REOPENED = event("application.reopened", "application",
                             "an appeal was upheld: the rejection is reviewed again", Reopened)
GRANT_CREATED = event("grant.created", "grant", "access granted by an approval", GrantCreated)
AGREEMENT_ACCEPTED = event("grant.agreement_accepted", "grant",
                           "the merchant accepted the grant's operation agreement",
                           AgreementAccepted)
GRANT_EXPIRED = event("grant.expired", "grant", "a grant's period ended", GrantEnded)
GRANT_REVOKED = event("grant.revoked", "grant", "an administrator revoked a grant", GrantEnded)

DECIDED = {ApplicationStatus.APPROVED: APPLICATION_APPROVED,
           ApplicationStatus.REJECTED: APPLICATION_REJECTED}
DECISIONS = (APPLICATION_APPROVED, APPLICATION_REJECTED, APPLICATION_DEEMED_APPROVED)
ENDED = {GrantStatus.EXPIRED: GRANT_EXPIRED, GrantStatus.REVOKED: GRANT_REVOKED}
