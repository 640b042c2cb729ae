"""Statuses of products, price proposals and bookings."""

from __future__ import annotations

from enum import StrEnum


class ProductStatus(StrEnum):
    LISTED = "listed"        # offered: used free of charge, or sold at its approved price
    WITHDRAWN = "withdrawn"  # no longer offered; its sales stay on the books


class ProposalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class BookingKind(StrEnum):
    SALE = "sale"  # income from a product (zero for a free product's use)
    COST = "cost"  # a cost of operating a product, or of the operator's whole operation
