"""tds product and tds books: products registered from releases and their prices, and the
operators' sales and costs. Amounts are written as decimals (12.50) in the policy's currency."""

from __future__ import annotations

from typing import Any

import click

from service.cli.base import acting, emit, json_option, token_option


def _money(value: str | None, what: str) -> int | None:
    from commerce.money import cents

    return None if value is None else cents(value, what)


def _price(p: dict[str, Any]) -> str:
    from commerce.money import decimal

    if p["free"]:
        return "free"
    shown = f"{decimal(p['price_cents'])}/{p['price_unit']}" if p["price_cents"] is not None \
        else "no price yet"
    if p["pending_price_cents"] is not None:
        shown += f" ({decimal(p['pending_price_cents'])} awaiting approval)"
    return shown


def _product_line(p: dict[str, Any]) -> str:
    return (f"{p['id']:>5}  {p['product_no']:16s} {p['status']:9s} {p['category']:18s} "
            f"{_price(p):24s} {p['name']}")


def _booking_line(b: dict[str, Any]) -> str:
    from commerce.money import decimal

    product = f"product {b['product_id']}" if b["product_id"] else "operation"
    return (f"{b['id']:>5}  {b['day']}  {b['kind']:4s} {decimal(b['amount_cents']):>12s}  "
            f"{product:12s} {b['counterparty']}" + ("  VOIDED" if b["voided_at"] else ""))


@click.group()
def product() -> None:
    """Products registered from releases for use or sale, and their prices."""


@product.command("register")
@click.argument("release_id", type=int)
@click.option("--category", required=True, help="one of the policy's [commerce] categories")
@click.option("--description", required=True)
@click.option("--unit", "price_unit", required=True, help="what a price is per (policy)")
@click.option("--price", help="a commercial product's proposed price, e.g. 12.50")
@click.option("--basis", default="", help="the cost basis and reasons of the price")
@token_option
@json_option
def product_register(release_id: int, category: str, description: str, price_unit: str,
                     price: str | None, basis: str, token: str | None, as_json: bool) -> None:
    """Register a release of your organization as a product (merchants)."""
    from actions import commerce

    data = commerce.register(acting(token), release_id, category, description, price_unit,
                             _money(price, "price"), basis)
    emit(data, as_json, lambda d: f"product {d['id']} ({d['product_no']}) registered: "
                                  f"{_price(d)}")


@product.command("list")
@click.option("--status", type=click.Choice(["listed", "withdrawn"]))
@click.option("--pending", is_flag=True, help="only those with a price awaiting approval")
@token_option
@json_option
def product_list(status: str | None, pending: bool, token: str | None, as_json: bool) -> None:
    """Products you may read (merchants: your organization's), with their prices."""
    from actions import commerce

    emit(commerce.search(acting(token), status, pending), as_json,
         lambda rows: "\n".join(_product_line(p) for p in rows) or "(no products)")


@product.command("show")
@click.argument("product_id", type=int)
@token_option
@json_option
def product_show(product_id: int, token: str | None, as_json: bool) -> None:
    """A product with its sources and the history of its price."""
    from actions import commerce

    emit(commerce.show(acting(token), product_id), as_json)


@product.command("price")
@click.argument("product_id", type=int)
@click.option("--price", required=True, help="the new price, e.g. 12.50")
@click.option("--basis", required=True, help="its cost basis and reasons")
@token_option
@json_option
def product_price(product_id: int, price: str, basis: str, token: str | None,
                  as_json: bool) -> None:
    """Propose a new price; the one in force stays until it is approved (merchants)."""
    from actions import commerce

    emit(commerce.propose_price(acting(token), product_id, _money(price, "price"), basis),
         as_json, lambda d: f"product {d['id']}: {_price(d)}")


@product.command("decide")
@click.argument("product_id", type=int)
@click.option("--approve/--reject", required=True)
@click.option("--note", default="", help="reasons (required to reject)")
@token_option
@json_option
def product_decide(product_id: int, approve: bool, note: str, token: str | None,
                   as_json: bool) -> None:
    """Approve or reject a product's proposed price (administrators)."""
    from actions import commerce

    emit(commerce.decide_price(acting(token), product_id, approve, note), as_json,
         lambda d: f"product {d['id']}: {_price(d)}")


@product.command("withdraw")
@click.argument("product_id", type=int)
@token_option
@json_option
def product_withdraw(product_id: int, token: str | None, as_json: bool) -> None:
    """No longer offer a product; its books stay."""
    from actions import commerce

    emit(commerce.withdraw(acting(token), product_id), as_json,
         lambda d: f"product {d['id']} withdrawn")


@click.group()
def books() -> None:
    """The operators' books: sales of products and costs."""


@books.command("sale")
@click.argument("product_id", type=int)
@click.option("--quantity", type=int, required=True, help="units of the price sold")
@click.option("--buyer", required=True)
@click.option("--amount", help="default: quantity x the price in force (a ceiling)")
@click.option("--day", help="ISO date (default today)")
@click.option("--note", default="")
@token_option
@json_option
def books_sale(product_id: int, quantity: int, buyer: str, amount: str | None,
               day: str | None, note: str, token: str | None, as_json: bool) -> None:
    """Book a sale (or a free product's use) of one of your products."""
    from actions import commerce

    emit(commerce.book(acting(token), "sale", buyer, _money(amount, "amount"), day,
                       product_id, quantity, note), as_json, _booking_line)


@books.command("cost")
@click.option("--amount", required=True, help="e.g. 1200.00")
@click.option("--payee", required=True, help="whom the cost paid")
@click.option("--product", "product_id", type=int, help="the product it was for, if one")
@click.option("--day", help="ISO date (default today)")
@click.option("--note", default="")
@token_option
@json_option
def books_cost(amount: str, payee: str, product_id: int | None, day: str | None, note: str,
               token: str | None, as_json: bool) -> None:
    """Book a cost of a product or of the whole operation."""
    from actions import commerce

    emit(commerce.book(acting(token), "cost", payee, _money(amount, "amount"), day,
                       product_id, 0, note), as_json, _booking_line)


@books.command("void")
@click.argument("booking_id", type=int)
@click.option("--note", required=True, help="why the booking was wrong")
@token_option
@json_option
def books_void(booking_id: int, note: str, token: str | None, as_json: bool) -> None:
    """Void a booking made in error (it stays, reversed)."""
    from actions import commerce

    emit(commerce.void(acting(token), booking_id, note), as_json, _booking_line)


@books.command("list")
@click.option("--year", type=int)
@click.option("--kind", type=click.Choice(["sale", "cost"]))
@click.option("--product", "product_id", type=int)
@token_option
@json_option
def books_list(year: int | None, kind: str | None, product_id: int | None, token: str | None,
               as_json: bool) -> None:
    """Bookings you may read (merchants: your organization's), newest first."""
    from actions import commerce

    emit(commerce.books(acting(token), year, kind, product_id), as_json,
         lambda rows: "\n".join(_booking_line(b) for b in rows) or "(no bookings)")


COMMANDS = [product, books]
