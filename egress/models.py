"""Tables of egress: requests, reviews and releases."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import utcnow
from kernel.base import Base


class EgressRequest(Base):
    __tablename__ = "egress_requests"
    __table_args__ = (Index("ix_egress_requests_deadline", "status", "deadline"),)  # sweeps

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("sandbox_jobs.id"), index=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("catalog_grants.id"), index=True)
    org: Mapped[str] = mapped_column(String(100), index=True)
    requested_by: Mapped[int | None] = mapped_column(Integer)
    product: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    declared_sources: Mapped[list[str]] = mapped_column(JSON)
    abroad: Mapped[bool] = mapped_column(Boolean, default=False)
    # draft -> submitted -> in_review -> returned -> submitted ... ; approved -> released;
    # rejected, withdrawn (and released) are final. See egress.workflow.
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    required_approvals: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer, default=1)  # votes count within one round
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    exceptions: Mapped[dict[str, str] | None] = mapped_column(JSON)  # check -> justification
    mitigation: Mapped[str] = mapped_column(String(20), default="none")
    mitigated_path: Mapped[str | None] = mapped_column(String(500))  # relative to TDS_HOME
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)  # the merchant's, if given
    # The merchant's word to reviewers on the output (SACRO Airlock): what it is and shows,
    # and the disclosure controls already applied to it.
    context: Mapped[str] = mapped_column(Text, default="", server_default="")
    controls: Mapped[str] = mapped_column(Text, default="", server_default="")
    reviews: Mapped[list[EgressReview]] = relationship(order_by="EgressReview.id")
    release: Mapped[Release | None] = relationship(back_populates="request")

    def current_votes(self) -> list[EgressReview]:
        return [r for r in self.reviews if r.round == self.round]

    def as_dict(self, reveal_votes: bool = True, private: bool = False) -> dict[str, Any]:
        """``reveal_votes``: show each vote (false while a reviewer's vote must stay blind);
        ``private``: include reviewers' private comments."""
        votes = self.current_votes()
        return {
            "id": self.id, "job_id": self.job_id, "grant_id": self.grant_id, "org": self.org,
            "product": self.product, "purpose": self.purpose,
            "context": self.context or "", "controls": self.controls or "",
            "declared_sources": self.declared_sources, "abroad": self.abroad,
            "status": self.status, "checks": self.checks, "round": self.round,
            "required_approvals": self.required_approvals,
            "votes_in": len(votes),
            "approvals": sum(r.decision == "approve" for r in votes) if reveal_votes else None,
            "reviews": [r.as_dict(private) for r in self.reviews] if reveal_votes else None,
            "exceptions": self.exceptions or {}, "mitigation": self.mitigation,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "escalated": self.escalated,
            "created_at": _iso(self.created_at), "submitted_at": _iso(self.submitted_at),
            "decided_at": _iso(self.decided_at), "withdrawal_reason": self.withdrawal_reason,
            "release_id": self.release.id if self.release else None,
        }


class EgressReview(Base):
    __tablename__ = "egress_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("egress_requests.id"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(Integer)
    reviewer_org: Mapped[str | None] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(10))  # approve | reject | return
    round: Mapped[int] = mapped_column(Integer, default=1)
    comment: Mapped[str] = mapped_column(Text)  # public: the merchant reads it
    private_comment: Mapped[str] = mapped_column(Text, default="")  # reviewers and admins only
    checklist: Mapped[dict[str, dict[str, str]] | None] = mapped_column(JSON)
    overrides: Mapped[dict[str, str] | None] = mapped_column(JSON)  # check -> reason
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    def as_dict(self, private: bool = False) -> dict[str, Any]:
        data = {"reviewer_id": self.reviewer_id, "reviewer_org": self.reviewer_org,
                "decision": self.decision, "round": self.round, "comment": self.comment,
                "checklist": self.checklist or {}, "overrides": self.overrides or {},
                "time": _iso(self.created_at)}
        if private:
            data["private_comment"] = self.private_comment
        return data


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


class Release(Base):
    __tablename__ = "egress_releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("egress_requests.id"), unique=True)
    product_no: Mapped[str] = mapped_column(String(40), unique=True)
    path: Mapped[str] = mapped_column(String(500))  # relative to TDS_HOME
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    request: Mapped[EgressRequest] = relationship(back_populates="release")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "request_id": self.request_id, "product_no": self.product_no,
                "product": self.request.product, "org": self.request.org, "path": self.path,
                "abroad": self.request.abroad,
                "manifest_sha256": self.manifest_sha256,
                "created_at": self.created_at.isoformat(timespec="seconds") + "Z"}
