"""Product, price and bookkeeping actions: operators register released products and book
their sales and costs, administrators approve prices, administrators and the regulator read
the annual operation report. What the public reads of them is in :mod:`actions.public`."""

from __future__ import annotations

from typing import Any

from actions.context import Context
from actions.views import BookingView, ListedProduct
from commerce import bookings, products
from policies.permissions import Action, permit
from reporting import annual


def register(ctx: Context, release_id: int, category: str, description: str, price_unit: str,
             price_cents: int | None = None, basis: str = "") -> dict[str, Any]:
    """Register a release of one's organization as a product (commercial: with its proposed
    price and cost basis)."""
    with ctx.transaction() as session:
        return ListedProduct.of(products.register(session, ctx.actor, ctx.policy, release_id,
                                                category, description, price_unit,
                                                price_cents, basis).as_dict())


def propose_price(ctx: Context, product_id: int, price_cents: int, basis: str
                  ) -> dict[str, Any]:
    with ctx.transaction() as session:
        return ListedProduct.of(products.propose_price(session, ctx.actor, ctx.policy,
                                                     product_id, price_cents, basis).as_dict())


def decide_price(ctx: Context, product_id: int, approve: bool, note: str) -> dict[str, Any]:
    """Approve or reject a product's proposed price (administrators)."""
    with ctx.transaction() as session:
        return ListedProduct.of(products.decide_price(session, ctx.actor, ctx.policy,
                                                    product_id, approve, note).as_dict())


def withdraw(ctx: Context, product_id: int) -> dict[str, Any]:
    with ctx.transaction() as session:
        return ListedProduct.of(products.withdraw(session, ctx.actor, product_id).as_dict())


def show(ctx: Context, product_id: int) -> dict[str, Any]:
    with ctx.read() as session:
        return ListedProduct.of(products.get(session, ctx.actor, product_id).as_dict())


def search(ctx: Context, status: str | None = None, pending: bool = False
           ) -> list[dict[str, Any]]:
    with ctx.read() as session:
        return [ListedProduct.of(p.as_dict())
                for p in products.search(session, ctx.actor, status, pending)]


def book(ctx: Context, kind: str, counterparty: str, amount_cents: int | None = None,
         day: str | None = None, product_id: int | None = None, quantity: int = 0,
         note: str = "") -> dict[str, Any]:
    """Book a sale of one's product or a cost."""
    with ctx.transaction() as session:
        return BookingView.of(bookings.record(session, ctx.actor, ctx.policy, kind,
                                              counterparty, amount_cents, day, product_id,
                                              quantity, note).as_dict())


def void(ctx: Context, booking_id: int, note: str) -> dict[str, Any]:
    with ctx.transaction() as session:
        return BookingView.of(bookings.void(session, ctx.actor, ctx.policy, booking_id,
                                            note).as_dict())


def books(ctx: Context, year: int | None = None, kind: str | None = None,
          product_id: int | None = None) -> list[dict[str, Any]]:
    with ctx.read() as session:
        return [BookingView.of(b.as_dict())
                for b in bookings.search(session, ctx.actor, year, kind, product_id)]


def annual_report(ctx: Context, year: int) -> dict[str, Any]:
    """The annual operation report (Art. 37), from the ledger."""
    permit(ctx.actor, Action.LEDGER_AUDIT)
    with ctx.read() as session:
        return annual.annual(session, ctx.policy, year)

