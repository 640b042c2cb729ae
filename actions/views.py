"""What the actions return, as typed views: the API declares them as its responses (typed
OpenAPI) and the CLI prints the same views with --json. An action validates its result against
its view, so a field the domain drops or renames fails loudly instead of changing a contract.

What a role may see of a dataset, a job or an egress request differs per field: the domain's
``view`` functions shape it, and their views are *sparse*: a field a role may not read is
absent, not null (``of`` drops what the dict did not set), while a field the dict holds and
the view does not declare fails the check, so a new field reaches nobody unnoticed."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from catalog.states import ApplicationStatus, GrantStatus
from policies import Role


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    sparse: ClassVar[bool] = False  # per-role views: leave out what the dict did not set

    @classmethod
    def of(cls, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` checked against the view, as plain JSON-ready values."""
        return cls.model_validate(data).model_dump(mode="json", by_alias=True,
                                                   exclude_unset=cls.sparse)


class UserView(View):
    id: int
    name: str
    role: Role
    org: str | None
    status: str
    created_at: str
    token_issued_at: str
    email: str | None = None  # where notices are e-mailed


class ListedUser(UserView):
    has_password: bool


class NewUser(UserView):
    token: str  # shown only this once


class IssuedToken(UserView):
    token: str  # shown only this once
    token_expires_at: str


class AccountUpdate(UserView):
    sessions_ended: int  # console sessions ended by the change


class ItemView(View):
    dataset: str
    version: int
    registration_no: str
    columns: list[str]
    raw_columns: list[str]


class AppliedItem(ItemView):
    level: str
    entities: dict[str, str | None]  # listed column -> entity type, None: no identifier


class GrantBrief(View):
    id: int
    status: GrantStatus
    usable: bool
    created_at: str | None
    expires_at: str | None
    ended_at: str | None


class GrantedItem(ItemView):
    pseudonymized: list[str] = []  # columns the grant's jobs see as pseudonyms


class ApplicationView(View):
    id: int
    org: str
    merchant_id: int | None
    scenario: str
    description: str
    purpose: str
    products: str
    months: int
    abroad: bool
    status: ApplicationStatus
    deemed_approved: bool
    submitted_at: str | None
    deadline: str
    deadline_calendar_exact: bool
    decided_at: str | None
    decided_by: int | None
    comment: str | None
    amendments: int
    assessment: dict[str, str] | None  # the reviewer's ratings of the decision
    items: list[AppliedItem]
    checks: list[DepartmentCheckView]  # the providing departments' checks (核查), one per dataset
    attachments: list[AttachmentView]
    # Why it cannot be approved yet: {"reason": check_pending | check_refused |
    # attachment_missing, "subject": a dataset or a kind of attachment}.
    missing: list[dict[str, str]] = []
    grant_id: int | None
    grant: GrantBrief | None


class DepartmentCheckView(View):
    dataset: str
    department: str
    verdict: str  # pending, agreed, refused, deemed
    assessment: dict[str, str] | None
    comment: str
    checked_by: int | None
    checked_at: str | None


class AttachmentView(View):
    id: int
    kind: str  # letter (申请函), commitment (承诺书), other
    filename: str
    size: int
    sha256: str
    uploaded_at: str | None


class QualificationView(View):
    id: int
    org: str
    status: str  # submitted, in_notice, qualified, rejected
    credit_code: str  # 统一社会信用代码
    legal_representative: str
    security_officer: str  # 数据安全负责人
    conditions: dict[str, str]  # accounts.qualification.CONDITIONS -> declaration
    submitted_at: str | None
    reviewed_at: str | None
    comment: str
    notice_from: str | None
    notice_until: str | None  # the last day of the public notice
    qualified_at: str | None


class NoticedOperator(View):
    """An organization on the public notice of operators."""
    org: str
    credit_code: str
    status: str  # in_notice or qualified
    notice_from: str | None
    notice_until: str | None
    qualified_at: str | None


class ConsentView(View):
    """A consent record: the person only as the first characters of a keyed digest."""
    id: int
    dataset: str
    subject: str  # 12 hex characters of the digest: tells records apart, names no one
    columns: list[str] | None  # the scope; None: every column
    reference: str
    given_on: str
    expires_on: str | None
    recorded_at: str | None
    ended_at: str | None
    status: str  # catalog.consent.STATUSES


class ConsentSummary(View):
    dataset: str
    required: bool
    person_key: str | None
    counts: dict[str, int]  # per status


class ConsentChange(View):
    dataset: str
    recorded: int | None = None
    superseded: int | None = None
    batch_sha256: str | None = None
    withdrawn: int | None = None
    ids: list[int] | None = None


class QualityIssueView(View):
    id: int
    dataset: str
    title: str
    department: str
    version: int  # the version reported on
    org: str
    reporter_id: int | None
    kind: str  # catalog.quality.KINDS
    columns: list[str]
    description: str
    status: str  # open, acknowledged, fixed, rejected
    reported_at: str | None
    answer_due: str
    fix_due: str
    reply: str
    answered_by: int | None
    answered_at: str | None
    fixed_version: int | None
    closed_at: str | None
    overdue: bool


class CaseView(View):
    id: int
    kind: str  # appeal, complaint, incident
    subject: str | None  # an appeal's application (application:ID)
    severity: str | None  # an incident's
    opened_by: int | None
    org: str | None
    title: str
    description: str
    status: str  # open, in_progress, upheld, dismissed, resolved
    opened_at: str | None
    respond_due: str
    resolve_due: str
    response: str
    responded_at: str | None
    resolution: str
    handled_by: int | None
    resolved_at: str | None
    overdue: bool


class AgreementState(View):
    sha256: str | None  # None: a grant made before agreements, with nothing to accept
    accepted_at: str | None
    accepted_by: int | None
    awaiting: bool  # no job may use the grant until the merchant accepts it


class GrantView(View):
    id: int
    application_id: int
    org: str
    scenario: str
    status: GrantStatus
    usable: bool
    created_at: str | None
    expires_at: str | None
    ended_at: str | None
    end_reason: str | None
    agreement: AgreementState
    datasets: list[GrantedItem]


class AgreementView(View):
    grant_id: int
    text: str
    sha256: str | None
    accepted_at: str | None
    accepted_by: int | None
    awaiting: bool


class AlertView(View):
    id: int
    grant_id: int
    org: str
    kind: str
    details: dict[str, Any]
    created_at: str | None
    acknowledged_by: int | None
    acknowledged_at: str | None


class ReleaseView(View):
    id: int
    request_id: int
    product_no: str
    product: str
    org: str
    path: str
    abroad: bool
    manifest_sha256: str
    created_at: str


class SourceView(View):
    dataset: str
    registration_no: str
    version: int


class ProductView(ReleaseView):
    sources: list[SourceView]


class SweepView(View):
    deemed_approved: list[int] = []
    escalated: list[int] = []
    withdrawn: list[int] = []  # returned applications not amended in time
    escalated_egress: list[int] = []
    expired_grants: list[int] = []
    orphan_releases: list[str] = []


class ColumnType(View):
    name: str
    type: str


class PreviewState(View):
    """Where a version's simulated preview stands; the dataset and version are named when the
    state is shown on its own (after a build)."""
    sparse: ClassVar[bool] = True
    status: str
    report: dict[str, Any] | None
    error: str | None
    built_at: str | None
    dataset: str | None = None
    version: int | None = None


class VersionView(View):
    version: int
    sha256: str
    rows: int
    created_at: str


class DatasetView(View):
    """A catalog entry: metadata and scan results, never rows. The detailed fields are there
    when one dataset is shown."""
    sparse: ClassVar[bool] = True
    name: str
    registration_no: str
    title: str
    description: str
    domain: str
    level: str
    attribute: str
    department: str = ""  # the providing department (数源部门)
    update_frequency: str = "irregular"
    field_names: dict[str, str] = Field(default_factory=dict)  # column -> Chinese field name
    # Used with its subjects' consent: real jobs see only consenting persons' rows.
    consent_required: bool = False
    version: int
    rows: int
    columns: int
    suggested_level: str
    classification: str
    preview: PreviewState
    columns_: list[ColumnType] | None = Field(None, alias="schema")
    pii: list[dict[str, Any]] | None = None
    column_tags: list[dict[str, Any]] | None = None
    sha256: str | None = None
    versions: list[VersionView] | None = None


class JobOutput(View):
    """A succeeded job's output. A real job's merchant reads a band of its rows, no hash."""
    sparse: ClassVar[bool] = True
    rows: int | None
    rows_band: list[int] | None = None
    rows_text: str
    columns_: list[ColumnType] = Field(alias="schema")
    sha256: str | None


class ShownRows(View):
    """The first rows of a simulated output; a real output's rows leave only through egress."""
    columns: list[str]
    rows: list[list[Any]]
    simulated: bool
    total_rows: int | None


class JobView(View):
    """A job as its reader may see it (:mod:`sandbox.visibility`): coarse figures for a real
    job's merchant, exact ones for reviewers, the failure's message for admins only."""
    sparse: ClassVar[bool] = True
    id: int
    grant_id: int
    org: str
    sql: str
    target: str
    output_name: str | None
    draft: bool = False  # a simulated run left without a name (POST /jobs/{id}/keep names it)
    status: str
    error: str | None
    error_class: str | None
    sources: dict[str, dict[str, Any]] | None
    attempts: int
    cancel_requested: bool
    output: JobOutput | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    duration_ms: int | None
    duration_s: int | None = None
    duration_text: str | None = None
    coarse: bool
    error_detail: str | None = None  # admins only
    result: ShownRows | None = None  # when one job is shown
    # A differentially private job: its specification, epsilon, delta and mechanisms
    dp: dict[str, Any] | None = None


class OwnDataView(View):
    """A merchant's own table in a workspace: what the scan found, never a value."""
    id: int
    grant_id: int
    org: str
    name: str
    status: str
    sha256: str
    rows: int
    bytes: int
    columns: list[dict[str, str]]  # name and type of each
    entities: dict[str, str]
    level: str
    person_key: str | None
    source_name: str
    preview_status: str
    created_at: str | None
    deleted_at: str | None


class BudgetSpend(View):
    job_id: int
    output_name: str
    epsilon: float
    status: str
    created_at: str | None


class PrivacyBudgetView(View):
    """A grant's budget of epsilon for DP jobs on real data: its level's, spent, left."""
    grant_id: int
    budget: float
    spent: float
    remaining: float
    max_epsilon_per_job: float
    jobs: list[BudgetSpend]


class CheckView(View):
    """A check's verdict and finding: ``message`` in English, ``code`` and ``args`` for a
    client that words it itself (requests checked before codes existed have none)."""
    name: str
    verdict: str
    message: str
    code: str | None = None
    args: dict[str, Any] | None = None
    columns: list[str]
    details: dict[str, Any]


class ReviewView(View):
    """A vote. Merchants read neither the reviewer's id nor the checklist; the private comment
    is for reviewers (once all votes are in) and admins."""
    sparse: ClassVar[bool] = True
    reviewer_id: int | None = None
    reviewer_org: str | None
    decision: str
    round: int
    comment: str
    checklist: dict[str, dict[str, str]] | None = None
    overrides: dict[str, str]
    time: str | None
    private_comment: str | None = None


class EgressView(View):
    """An egress request as its reader may see it (:func:`egress.requesting.view`): votes stay
    blind (``approvals`` and ``reviews`` null) until every vote is in."""
    sparse: ClassVar[bool] = True
    id: int
    job_id: int
    grant_id: int
    org: str
    product: str
    purpose: str
    context: str = ""  # the merchant's word on the output: what it is and shows
    controls: str = ""  # ... and the disclosure controls applied to it
    declared_sources: list[str]
    abroad: bool
    status: str
    checks: list[CheckView]
    round: int
    required_approvals: int
    votes_in: int
    approvals: int | None
    reviews: list[ReviewView] | None
    exceptions: dict[str, str]
    mitigation: str
    deadline: str | None
    escalated: bool
    created_at: str | None
    submitted_at: str | None
    decided_at: str | None
    withdrawal_reason: str | None
    release_id: int | None
    my_vote: ReviewView | None = None  # a blind reviewer's own vote


class PriceView(View):
    id: int
    price_cents: int  # hundredths of the policy's currency
    previous_cents: int | None  # the price in force when it was proposed
    basis: str  # the operator's cost basis and reasons
    status: str  # pending, approved, rejected
    proposed_at: str | None
    decided_at: str | None
    note: str


class ListedProduct(View):
    """A released product registered for use or sale, with its charging standard's history."""
    id: int
    release_id: int
    product_no: str
    name: str
    org: str
    category: str
    free: bool  # a public-governance or public-welfare product: used free of charge
    description: str
    sources: list[str]  # the registered datasets it was derived from
    price_cents: int | None  # the approved price in force (None: none approved yet)
    price_unit: str
    status: str  # listed, withdrawn
    pending_price_cents: int | None  # a proposed price awaiting an administrator
    on_sale: bool
    listed_at: str | None
    withdrawn_at: str | None
    prices: list[PriceView]


class BookingView(View):
    id: int
    kind: str  # sale or cost
    org: str
    product_id: int | None
    day: str
    quantity: int
    unit_price_cents: int | None  # a sale's price in force on its day
    amount_cents: int
    counterparty: str  # the buyer, or whom a cost paid
    note: str
    recorded_at: str | None
    voided_at: str | None
    void_note: str
