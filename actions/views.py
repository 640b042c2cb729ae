"""What the actions return, as typed views: the API declares them as its responses (typed
OpenAPI) and the CLI prints the same views with --json. An action validates its result against
its view, so a field the domain drops or renames fails loudly instead of changing a contract.

Views of the larger objects (datasets, jobs, egress requests) are still plain dicts, shaped by
their domain's ``view`` functions: what each role may see of them differs per field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from catalog.states import ApplicationStatus, GrantStatus
from policies import Role


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def of(cls, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` checked against the view, as plain JSON-ready values."""
        return cls.model_validate(data).model_dump(mode="json")


class UserView(View):
    id: int
    name: str
    role: Role
    org: str | None
    status: str
    created_at: str
    token_issued_at: str


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
    items: list[ItemView]
    grant_id: int | None


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
    datasets: list[GrantedItem]


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
    escalated_egress: list[int] = []
    expired_grants: list[int] = []
    orphan_releases: list[str] = []
