"""Ledger events of products, prices, sales and costs: numbers, categories, amounts and
counts, never a buyer's name or a free text. The annual report is built from these."""

from lineage.events import Payload, event


class Listed(Payload):
    release_id: int
    product_no: str
    org: str
    category: str
    free: bool
    price_unit: str
    sources: list[str]
    grant_id: int


class Withdrawn(Payload):
    product_no: str


class PriceProposed(Payload):
    proposal_id: int
    price_cents: int
    previous_cents: int | None
    basis_chars: int


class PriceDecided(Payload):
    proposal_id: int
    price_cents: int
    previous_cents: int | None
    note_chars: int


class Booked(Payload):
    kind: str  # sale or cost
    org: str
    product_id: int | None
    day: str
    quantity: int
    amount_cents: int
    counterparty_sha256: str  # whose, provably, without keeping the name for five years


class Voided(Payload):
    booking_id: int
    kind: str
    org: str
    product_id: int | None
    day: str
    quantity: int
    amount_cents: int


PRODUCT_LISTED = event("product.listed", "product",
                       "a released product was registered for use or sale", Listed)
PRODUCT_WITHDRAWN = event("product.withdrawn", "product", "a product was no longer offered",
                          Withdrawn)
PRICE_PROPOSED = event("product.price_proposed", "product",
                       "an operator proposed a commercial product's price", PriceProposed)
PRICE_APPROVED = event("product.price_approved", "product",
                       "a product's price was approved and is in force", PriceDecided)
PRICE_REJECTED = event("product.price_rejected", "product", "a proposed price was rejected",
                       PriceDecided)
BOOKED = event("finance.booked", "booking", "a sale or a cost was booked", Booked)
VOIDED = event("finance.voided", "booking", "a booking was voided (its amount reversed)",
               Voided)
