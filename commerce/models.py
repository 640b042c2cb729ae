"""Tables of products, price proposals and bookings (sales and costs)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import iso, utcnow
from kernel.base import Base


class Product(Base):
    """A released product registered for use or sale (Art. 27), linked to its release and so
    to the registered datasets it was derived from."""
    __tablename__ = "commerce_products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("egress_releases.id"), unique=True)
    product_no: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    org: Mapped[str] = mapped_column(String(100), index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    free: Mapped[bool] = mapped_column(Boolean)  # a free category's: no price, no income
    description: Mapped[str] = mapped_column(Text)
    sources: Mapped[str] = mapped_column(Text)  # source datasets, comma-separated, sorted
    price_cents: Mapped[int | None] = mapped_column(Integer)  # the approved price in force
    price_unit: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="listed", index=True)
    listed_by: Mapped[int | None] = mapped_column(Integer)
    listed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    proposals: Mapped[list[PriceProposal]] = relationship(
        back_populates="product", order_by="PriceProposal.id")

    def source_list(self) -> list[str]:
        return [s for s in self.sources.split(",") if s]

    def pending(self) -> PriceProposal | None:
        return next((p for p in self.proposals if p.status == "pending"), None)

    def as_dict(self) -> dict[str, Any]:
        pending = self.pending()
        return {"id": self.id, "release_id": self.release_id, "product_no": self.product_no,
                "name": self.name, "org": self.org, "category": self.category,
                "free": self.free, "description": self.description,
                "sources": self.source_list(), "price_cents": self.price_cents,
                "price_unit": self.price_unit, "status": self.status,
                "pending_price_cents": pending.price_cents if pending else None,
                "on_sale": self.status == "listed" and (self.free
                                                        or self.price_cents is not None),
                "listed_at": iso(self.listed_at), "withdrawn_at": iso(self.withdrawn_at),
                "prices": [p.as_dict() for p in self.proposals]}


class PriceProposal(Base):
    """A commercial product's price as proposed by its operator and decided by an
    administrator: the history of its charging standard (fee changes, Art. 37)."""
    __tablename__ = "commerce_price_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("commerce_products.id"), index=True)
    price_cents: Mapped[int] = mapped_column(Integer)
    previous_cents: Mapped[int | None] = mapped_column(Integer)  # in force when proposed
    basis: Mapped[str] = mapped_column(Text)  # the operator's cost basis and reasons
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    proposed_by: Mapped[int | None] = mapped_column(Integer)
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    product: Mapped[Product] = relationship(back_populates="proposals")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "price_cents": self.price_cents,
                "previous_cents": self.previous_cents, "basis": self.basis,
                "status": self.status, "proposed_at": iso(self.proposed_at),
                "decided_at": iso(self.decided_at), "note": self.note}


class Booking(Base):
    """A sale (income from a product; a free product's use at zero) or a cost, on the
    operator's books."""
    __tablename__ = "commerce_bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), index=True)  # commerce.states.BookingKind
    org: Mapped[str] = mapped_column(String(100), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("commerce_products.id"),
                                                   index=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)  # sales: units of the price
    unit_price_cents: Mapped[int | None] = mapped_column(Integer)  # sales: the price then
    amount_cents: Mapped[int] = mapped_column(Integer)
    counterparty: Mapped[str] = mapped_column(String(200))  # the buyer, or whom a cost paid
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    voided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # a mistake, reversed
    void_note: Mapped[str] = mapped_column(Text, default="")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "org": self.org,
                "product_id": self.product_id, "day": self.day.isoformat(),
                "quantity": self.quantity, "unit_price_cents": self.unit_price_cents,
                "amount_cents": self.amount_cents, "counterparty": self.counterparty,
                "note": self.note, "recorded_at": iso(self.recorded_at),
                "voided_at": iso(self.voided_at), "void_note": self.void_note}
