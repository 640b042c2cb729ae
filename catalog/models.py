"""Tables of the catalog, applications and grants."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel.base import Base, utcnow


class Dataset(Base):
    __tablename__ = "catalog_datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    registration_no: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    domain: Mapped[str] = mapped_column(String(63))
    level: Mapped[str] = mapped_column(String(2))
    attribute: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    department: Mapped[str] = mapped_column(String(200), default="", server_default="")
    update_frequency: Mapped[str] = mapped_column(String(20), default="irregular",
                                                  server_default="irregular")
    # Column name -> its Chinese field name (字段中文名), as the provider gave it.
    field_names: Mapped[dict[str, str] | None] = mapped_column(JSON)
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")  # catalog.search
    # Personal data used with its subjects' consent (PIPL Art. 13-16; Measures Art. 25): real
    # jobs see only the rows of persons whose consent is in force and covers the granted columns.
    consent_required: Mapped[bool] = mapped_column(Boolean, default=False)
    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset", order_by="DatasetVersion.version"
    )

    @property
    def latest(self) -> DatasetVersion:
        return self.versions[-1]


class DatasetVersion(Base):
    __tablename__ = "catalog_dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("catalog_datasets.id"))
    version: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(500))  # relative to TDS_HOME
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    schema: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"name", "type"}]
    pii: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # column scan results
    suggested_level: Mapped[str] = mapped_column(String(2))
    # Per column: entity (PII type or None), suggested_entity and share from the scan,
    # quasi_identifier and confidential flags. "suggested" until the provider confirms it.
    column_tags: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    classification: Mapped[str] = mapped_column(String(20), default="suggested")
    classified_by: Mapped[int | None] = mapped_column(Integer)
    classified_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Simulated preview: pending | building | ready | failed (with the reason).
    preview_status: Mapped[str] = mapped_column(String(20), default="pending")
    preview_error: Mapped[str] = mapped_column(Text, default="")
    preview_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    preview_built_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    source_name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    dataset: Mapped[Dataset] = relationship(back_populates="versions")

    @property
    def column_names(self) -> list[str]:
        return [c["name"] for c in self.schema]

    def tags(self) -> list[dict[str, Any]]:
        """The column tags, or the scan's suggestions for versions registered before tags."""
        if self.column_tags is not None:
            return self.column_tags
        return [{"name": c["name"], "entity": c.get("entity"), "suggested_entity": c.get("entity"),
                 "share": c.get("fraction", 0.0), "quasi_identifier": False, "confidential": False}
                for c in self.pii]

    def entity_columns(self) -> dict[str, str]:
        """Columns holding an identifier, with its entity type."""
        return {t["name"]: t["entity"] for t in self.tags() if t.get("entity")}

    def flagged(self, flag: str) -> list[str]:
        return [t["name"] for t in self.tags() if t.get(flag)]

    def person_key(self) -> str | None:
        """The column whose distinct values are the contributors of a released cell (a person,
        or an enterprise); None: each row is its own contributor."""
        return next(iter(self.flagged("person_key")), None)


class Application(Base):
    __tablename__ = "catalog_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org: Mapped[str] = mapped_column(String(100), index=True)
    merchant_id: Mapped[int | None] = mapped_column(Integer)
    scenario: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    products: Mapped[str] = mapped_column(Text)
    months: Mapped[int] = mapped_column(Integer)
    abroad: Mapped[bool] = mapped_column(Boolean, default=False)
    # catalog.states.APPLICATIONS: submitted -> approved | rejected | escalated | returned
    # (-> submitted again when amended) | withdrawn
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    amendments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    deemed: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    deadline: Mapped[dt.date] = mapped_column(Date)
    calendar_exact: Mapped[bool] = mapped_column(Boolean, default=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    # The platform reviewer's structured assessment (合理性, 合规性, 安全性) of the decision.
    assessment: Mapped[dict[str, str] | None] = mapped_column(JSON)
    items: Mapped[list[ApplicationItem]] = relationship(back_populates="application",
                                                        order_by="ApplicationItem.id")
    checks: Mapped[list[ApplicationCheck]] = relationship(back_populates="application",
                                                          order_by="ApplicationCheck.id")
    attachments: Mapped[list[ApplicationAttachment]] = relationship(
        back_populates="application", order_by="ApplicationAttachment.id")
    grant: Mapped[Grant | None] = relationship(back_populates="application")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "org": self.org, "merchant_id": self.merchant_id,
            "scenario": self.scenario, "description": self.description, "purpose": self.purpose,
            "products": self.products, "months": self.months, "abroad": self.abroad,
            "status": self.status, "deemed_approved": self.deemed,
            "submitted_at": iso(self.submitted_at), "deadline": self.deadline.isoformat(),
            "deadline_calendar_exact": self.calendar_exact,
            "decided_at": iso(self.decided_at), "decided_by": self.decided_by,
            "comment": self.comment, "amendments": self.amendments or 0,
            "assessment": self.assessment,
            "items": [item.described() for item in self.items],
            "checks": [check.as_dict() for check in self.checks],
            "attachments": [attachment.as_dict() for attachment in self.attachments],
            "grant_id": self.grant.id if self.grant else None,
            "grant": self.grant.brief() if self.grant else None,
        }


class ApplicationItem(Base):
    __tablename__ = "catalog_application_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("catalog_applications.id"))
    dataset_version_id: Mapped[int] = mapped_column(ForeignKey("catalog_dataset_versions.id"))
    columns: Mapped[list[str]] = mapped_column(JSON)
    # Identifier columns the scenario needs as real values, not pseudonyms (reviewed with the
    # application); other identifier columns of levels whose policy says so are pseudonymized.
    raw_columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    application: Mapped[Application] = relationship(back_populates="items")
    dataset_version: Mapped[DatasetVersion] = relationship()

    def as_dict(self) -> dict[str, Any]:
        version = self.dataset_version
        return {"dataset": version.dataset.name, "version": version.version,
                "registration_no": version.dataset.registration_no, "columns": list(self.columns),
                "raw_columns": list(self.raw_columns or [])}

    def described(self) -> dict[str, Any]:
        """The item with what a reviewer weighs: the dataset's level and each listed column's
        entity type (None: no identifier)."""
        entities = self.dataset_version.entity_columns()
        return {**self.as_dict(), "level": self.dataset_version.dataset.level,
                "entities": {c: entities.get(c) for c in self.columns}}


class QualityIssue(Base):
    """A data-quality issue a merchant reported on a dataset version (Measures Art. 14),
    answered by the providing department and tracked to closure."""

    __tablename__ = "catalog_quality_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("catalog_datasets.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # the version the merchant reported on
    org: Mapped[str] = mapped_column(String(100), index=True)
    reporter_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # catalog.quality.KINDS
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text)
    # catalog.states.ISSUES: open -> acknowledged -> fixed | rejected
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    answer_due: Mapped[dt.date] = mapped_column(Date)
    fix_due: Mapped[dt.date] = mapped_column(Date)
    reply: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    fixed_version: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    dataset: Mapped[Dataset] = relationship()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "dataset": self.dataset.name, "title": self.dataset.title,
                "department": self.dataset.department, "version": self.version,
                "org": self.org, "reporter_id": self.reporter_id, "kind": self.kind,
                "columns": list(self.columns or []), "description": self.description,
                "status": self.status, "reported_at": iso(self.reported_at),
                "answer_due": self.answer_due.isoformat(), "fix_due": self.fix_due.isoformat(),
                "reply": self.reply, "answered_by": self.answered_by,
                "answered_at": iso(self.answered_at), "fixed_version": self.fixed_version,
                "closed_at": iso(self.closed_at)}


def consent_status(end_reason: str | None, given_on: dt.date, expires_on: dt.date | None,
                   today: dt.date) -> str:
    """withdrawn or superseded (ended), else future, expired or active on ``today``."""
    if end_reason:
        return end_reason
    if given_on > today:
        return "future"
    if expires_on is not None and expires_on < today:
        return "expired"
    return "active"


class ConsentRecord(Base):
    """One person's consent to the use of their rows of a dataset. The person appears only as
    a keyed digest of the dataset's person key (:func:`catalog.consent.digest`); the value is
    never stored. ``columns`` is the consent's scope (None: every column)."""

    __tablename__ = "catalog_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("catalog_datasets.id"), index=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    columns: Mapped[list[str] | None] = mapped_column(JSON)
    reference: Mapped[str] = mapped_column(String(100), default="")  # the consent form's number
    given_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Set when the person withdrew, or when a newer consent of theirs replaced this one.
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))  # withdrawn | superseded
    dataset: Mapped[Dataset] = relationship()

    def status(self, today: dt.date) -> str:
        return consent_status(self.end_reason, self.given_on, self.expires_on, today)

    def as_dict(self, today: dt.date) -> dict[str, Any]:
        return {"id": self.id, "dataset": self.dataset.name, "subject": self.subject[:12],
                "columns": self.columns, "reference": self.reference,
                "given_on": self.given_on.isoformat(),
                "expires_on": self.expires_on.isoformat() if self.expires_on else None,
                "recorded_at": iso(self.recorded_at), "ended_at": iso(self.ended_at),
                "status": self.status(today)}


class ApplicationCheck(Base):
    """The providing department's check (核查) of its dataset's part of an application: the
    first level of the review, before the platform's reviewer decides (审核)."""

    __tablename__ = "catalog_application_checks"
    __table_args__ = (UniqueConstraint("application_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("catalog_applications.id"), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("catalog_datasets.id"), index=True)
    # catalog.states.CheckVerdict: pending -> agreed | refused, or deemed (silence past the
    # review deadline, where the policy deems an overdue application approved)
    verdict: Mapped[str] = mapped_column(String(10), default="pending")
    assessment: Mapped[dict[str, str] | None] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    checked_by: Mapped[int | None] = mapped_column(Integer)
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    application: Mapped[Application] = relationship(back_populates="checks")
    dataset: Mapped[Dataset] = relationship()

    def as_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset.name, "department": self.dataset.department,
                "verdict": self.verdict, "assessment": self.assessment, "comment": self.comment,
                "checked_by": self.checked_by, "checked_at": iso(self.checked_at)}


class ApplicationAttachment(Base):
    """A document the merchant files with an application (申请函, 承诺书, ...): the file lies in
    the platform's storage under :attr:`path`, the store keeps its name, size and SHA-256."""

    __tablename__ = "catalog_application_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("catalog_applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # policies.sections.ATTACHMENT_KINDS
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(Integer)
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    application: Mapped[Application] = relationship(back_populates="attachments")

    @property
    def path(self) -> str:
        suffix = self.filename.rpartition(".")[2].lower()
        return f"applications/{self.application_id}/{self.id}.{suffix}"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "filename": self.filename, "size": self.size,
                "sha256": self.sha256, "uploaded_at": iso(self.uploaded_at)}


class Grant(Base):
    __tablename__ = "catalog_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("catalog_applications.id"), unique=True)
    org: Mapped[str] = mapped_column(String(100), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active|revoked|expired
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    end_reason: Mapped[str] = mapped_column(Text, default="")
    # The operation agreement (格式协议) filled in for this grant, and the merchant's
    # acceptance; no job may use the grant before it. Grants older than agreements have none.
    agreement: Mapped[str] = mapped_column(Text, default="", server_default="")
    agreement_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    agreement_accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    agreement_accepted_by: Mapped[int | None] = mapped_column(Integer)
    application: Mapped[Application] = relationship(back_populates="grant")

    @property
    def awaits_agreement(self) -> bool:
        return bool(self.agreement_sha256) and self.agreement_accepted_at is None

    def agreement_state(self) -> dict[str, Any]:
        return {"sha256": self.agreement_sha256 or None,
                "accepted_at": iso(self.agreement_accepted_at),
                "accepted_by": self.agreement_accepted_by,
                "awaiting": self.awaits_agreement}

    @property
    def items(self) -> list[ApplicationItem]:
        return self.application.items

    def usable(self, now: dt.datetime | None = None) -> bool:
        return self.status == "active" and (now or utcnow()) < self.expires_at

    def brief(self) -> dict[str, Any]:
        """Status and term, as the application shows its grant."""
        return {"id": self.id, "status": self.status, "usable": self.usable(),
                "created_at": iso(self.created_at), "expires_at": iso(self.expires_at),
                "ended_at": iso(self.ended_at)}

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "application_id": self.application_id, "org": self.org,
            "scenario": self.application.scenario, "status": self.status,
            "usable": self.usable(), "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at), "ended_at": iso(self.ended_at),
            "end_reason": self.end_reason,
            "agreement": self.agreement_state(),
            "datasets": [item.as_dict() for item in self.items],
        }


def iso(value: dt.datetime | None) -> str | None:
    """A time as ISO 8601 in UTC to the second, with its Z (None stays None)."""
    return value.isoformat(timespec="seconds") + "Z" if value else None

