"""The operator's books: sales of its products and its costs (Art. 36), each a row a mistake
is voided on (reversed, never deleted), each in the ledger with its amount.

A sale is at the price in force on its day: at most quantity x that price (the approved price
is a ceiling: a discount is booked lower), zero for a free product's use, never for a product
before its listing or after its withdrawal."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import extract, select
from sqlalchemy.orm import Session

from catalog import names
from catalog.models import utcnow
from commerce import events
from commerce.errors import CommerceConflict, InvalidCommerce, ProductNotFound
from commerce.models import Booking, Product
from commerce.products import get as get_product
from commerce.states import BookingKind, ProposalStatus
from lineage import append
from policies import Actor, Policy, Role
from policies.permissions import Action, permit


def record(session: Session, actor: Actor, policy: Policy, kind: str, counterparty: str,
           amount_cents: int | None = None, day: str | None = None,
           product_id: int | None = None, quantity: int = 0, note: str = "") -> Booking:
    """Book a sale of a product (``amount_cents`` defaults to quantity x the price in force on
    ``day``) or a cost (of one product, or of the operation as a whole)."""
    permit(actor, Action.FINANCE_RECORD)
    if kind not in tuple(BookingKind):
        raise InvalidCommerce("a booking is a sale or a cost, not {value!r}",
                              value=str(kind)[:20])
    when = _day(day)
    if kind == BookingKind.SALE:
        counterparty = names.text(counterparty, "buyer", policy.text.name_length)
    else:
        counterparty = names.text(counterparty, "payee", policy.text.name_length)
    note = names.text(note, "note", policy.text.long_length, required=False, multiline=True)
    product = None
    if product_id is not None:
        product = get_product(session, actor, product_id)
        if product.org != actor.org:
            raise ProductNotFound("no product {id}", id=product_id)
    if amount_cents is not None and (isinstance(amount_cents, bool)
                                     or not isinstance(amount_cents, int) or amount_cents < 0
                                     or amount_cents > policy.commerce.largest_amount):
        raise InvalidCommerce("an amount is from 0 to {largest} hundredths",
                              largest=policy.commerce.largest_amount)
    unit_price = None
    if kind == BookingKind.SALE:
        if product is None:
            raise InvalidCommerce("a sale names the product sold")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise InvalidCommerce("a sale's quantity is a whole number of at least 1")
        _offered_on(product, when)
        unit_price = 0 if product.free else price_on(product, when)
        if product.free and amount_cents:
            raise InvalidCommerce("product {id} is used free of charge: its use is booked at 0",
                                  id=product.id)
        ceiling = quantity * unit_price
        amount_cents = ceiling if amount_cents is None else amount_cents
        if amount_cents > ceiling:
            raise InvalidCommerce("{quantity} x {price} hundredths is at most {ceiling}: the "
                                  "approved price is a ceiling", quantity=quantity,
                                  price=unit_price, ceiling=ceiling)
    else:
        if quantity:
            raise InvalidCommerce("a cost has no quantity")
        if not amount_cents:
            raise InvalidCommerce("a cost has an amount above zero")
    booking = Booking(kind=kind, org=actor.org, product_id=product.id if product else None,
                      day=when, quantity=quantity, unit_price_cents=unit_price,
                      amount_cents=amount_cents, counterparty=counterparty, note=note,
                      recorded_by=actor.id, void_note="")
    session.add(booking)
    session.flush()
    append(session, actor, events.BOOKED, f"booking:{booking.id}",
           {"kind": kind, "org": actor.org, "product_id": booking.product_id,
            "day": when.isoformat(), "quantity": quantity, "amount_cents": amount_cents,
            "counterparty_sha256": hashlib.sha256(counterparty.encode()).hexdigest()})
    return booking


def _day(day: str | None) -> dt.date:
    today = utcnow().date()
    if not day:
        return today
    try:
        when = dt.date.fromisoformat(str(day))
    except ValueError:
        raise InvalidCommerce("a day is an ISO date (YYYY-MM-DD), not {value!r}",
                              value=str(day)[:20]) from None
    if when > today:
        raise InvalidCommerce("{day} is in the future", day=when.isoformat())
    return when


def _offered_on(product: Product, when: dt.date) -> None:
    if when < product.listed_at.date() or (product.withdrawn_at is not None
                                           and when > product.withdrawn_at.date()):
        raise InvalidCommerce("product {id} was not offered on {day}", id=product.id,
                              day=when.isoformat())


def price_on(product: Product, when: dt.date) -> int:
    """The price in force on ``when``: the last one approved by then."""
    approved = [p for p in product.proposals if p.status == ProposalStatus.APPROVED
                and p.decided_at is not None and p.decided_at.date() <= when]
    if not approved:
        raise CommerceConflict("product {id} had no approved price on {day}", id=product.id,
                               day=when.isoformat())
    return max(approved, key=lambda p: (p.decided_at, p.id)).price_cents


def void(session: Session, actor: Actor, policy: Policy, booking_id: int, note: str
         ) -> Booking:
    """Reverse a booking made in error, with the reason; it stays on the books, voided."""
    permit(actor, Action.FINANCE_RECORD)
    booking = get(session, actor, booking_id)
    if booking.voided_at is not None:
        raise CommerceConflict("booking {id} is voided already", id=booking.id)
    booking.void_note = names.text(note, "reason", policy.text.long_length, multiline=True)
    booking.voided_at = utcnow()
    append(session, actor, events.VOIDED, f"booking:{booking.id}",
           {"booking_id": booking.id, "kind": booking.kind, "org": booking.org,
            "product_id": booking.product_id, "day": booking.day.isoformat(),
            "quantity": booking.quantity, "amount_cents": booking.amount_cents})
    return booking


def get(session: Session, actor: Actor, booking_id: int) -> Booking:
    permit(actor, Action.FINANCE_READ)
    booking = session.get(Booking, booking_id)
    if booking is None or (actor.role == Role.MERCHANT and booking.org != actor.org):
        raise ProductNotFound("no booking {id}", id=booking_id)
    return booking


def search(session: Session, actor: Actor, year: int | None = None, kind: str | None = None,
           product_id: int | None = None) -> list[Booking]:
    """Bookings the actor may read (merchants: their organization's), newest first."""
    permit(actor, Action.FINANCE_READ)
    query = select(Booking).order_by(Booking.day.desc(), Booking.id.desc())
    if actor.role == Role.MERCHANT:
        query = query.where(Booking.org == actor.org)
    if year is not None:
        query = query.where(extract("year", Booking.day) == year)
    if kind:
        query = query.where(Booking.kind == kind)
    if product_id is not None:
        query = query.where(Booking.product_id == product_id)
    return list(session.scalars(query))
