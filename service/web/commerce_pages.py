"""Products, prices and books in the console: operators register their releases as products,
propose prices and book sales and costs; administrators approve prices; administrators and the
regulator read the annual operation report and export it as CSV or XLSX."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from actions import commerce as commerce_actions
from actions import egress as egress_actions
from catalog.errors import CatalogError
from commerce.errors import CommerceError
from commerce.money import cents
from policies.permissions import Action, allowed
from reporting import annual
from service.api.params import PathId
from service.web.base import Form, Member, back, context, member, render
from service.web.i18n import Said

router = APIRouter(include_in_schema=False)
READER = Depends(member(Action.PRODUCT_READ))
LISTER = Depends(member(Action.PRODUCT_LIST))
BOOKKEEPER = Depends(member(Action.FINANCE_RECORD))
AUDITOR = Depends(member(Action.LEDGER_AUDIT))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REFUSALS = (CommerceError, CatalogError)


def _amount(value: str, what: str) -> int | None:
    return cents(value, what) if value.strip() else None


def _whole(value: str) -> int:
    """A form's whole number; anything else is 0, which the domain refuses in its words."""
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 10 else 0


def _products(request: Request, m: Member, pending: bool = False, values: dict | None = None,
              error: str = "", status: int = 200) -> HTMLResponse:
    ctx = context(request, m)
    rows = commerce_actions.search(ctx, None, pending)
    releases = []
    if allowed(m.actor, Action.PRODUCT_LIST):
        listed = {p["release_id"] for p in rows}
        releases = [r for r in egress_actions.releases(ctx) if r["id"] not in listed]
    rules = ctx.policy.commerce
    return render(request, "products.html", m, rows=rows, pending=pending, releases=releases,
                  categories=rules.categories, free=rules.free_categories,
                  units=rules.price_units, currency=rules.currency, values=values or {},
                  error=error, status=status)


@router.get("/products", response_class=HTMLResponse)
def product_list(request: Request, m: Annotated[Member, READER],
                 pending: bool = False) -> HTMLResponse:
    return _products(request, m, pending)


@router.post("/products", response_model=None)
def product_register(request: Request, m: Annotated[Member, LISTER], form: Form) -> Response:
    values = {k: str(form.get(k, "")) for k in ("release", "category", "description", "unit",
                                                 "price", "basis")}
    try:
        made = commerce_actions.register(
            context(request, m), _whole(values["release"]), values["category"],
            values["description"], values["unit"], _amount(values["price"], "price"),
            values["basis"])
    except REFUSALS as exc:
        return _products(request, m, values=values, error=Said(exc), status=422)
    return back(f"/products/{made['id']}", "product_registered")


def _product(request: Request, m: Member, product_id: int, error: str = "",
             values: dict | None = None, status: int = 200) -> HTMLResponse:
    ctx = context(request, m)
    product = commerce_actions.show(ctx, product_id)
    sales = (commerce_actions.books(ctx, product_id=product_id)
             if allowed(m.actor, Action.FINANCE_READ) else [])
    mine = m.actor.role == "merchant" and product["status"] == "listed"
    return render(request, "product.html", m, p=product, sales=sales, error=error,
                  values=values or {}, currency=ctx.policy.commerce.currency,
                  can_price=mine and not product["free"]
                  and product["pending_price_cents"] is None,
                  can_sell=mine and product["on_sale"],
                  can_decide=allowed(m.actor, Action.PRODUCT_PRICE)
                  and product["pending_price_cents"] is not None,
                  can_withdraw=allowed(m.actor, Action.PRODUCT_WITHDRAW)
                  and product["status"] == "listed",
                  today=dt.date.today().isoformat(), status=status)


@router.get("/products/{product_id}", response_class=HTMLResponse)
def product_page(request: Request, product_id: PathId,
                 m: Annotated[Member, READER]) -> HTMLResponse:
    return _product(request, m, product_id)


@router.post("/products/{product_id}/price", response_model=None)
def product_price(request: Request, product_id: PathId, m: Annotated[Member, LISTER],
                  form: Form) -> Response:
    values = {k: str(form.get(k, "")) for k in ("price", "basis")}
    try:
        commerce_actions.propose_price(context(request, m), product_id,
                                       cents(values["price"], "price"), values["basis"])
    except REFUSALS as exc:
        return _product(request, m, product_id, Said(exc), values, 422)
    return back(f"/products/{product_id}", "price_proposed")


@router.post("/products/{product_id}/decision", response_model=None)
def product_decide(request: Request, product_id: PathId,
                   m: Annotated[Member, Depends(member(Action.PRODUCT_PRICE))],
                   form: Form) -> Response:
    note = str(form.get("note", ""))
    try:
        commerce_actions.decide_price(context(request, m), product_id,
                                      form.get("decision") == "approve", note)
    except REFUSALS as exc:
        return _product(request, m, product_id, Said(exc), {"note": note}, 422)
    return back(f"/products/{product_id}", "price_decided")


@router.post("/products/{product_id}/withdraw", response_model=None)
def product_withdraw(request: Request, product_id: PathId,
                     m: Annotated[Member, Depends(member(Action.PRODUCT_WITHDRAW))]
                     ) -> Response:
    try:
        commerce_actions.withdraw(context(request, m), product_id)
    except REFUSALS as exc:
        return _product(request, m, product_id, Said(exc), status=422)
    return back(f"/products/{product_id}", "product_withdrawn")


@router.post("/products/{product_id}/sale", response_model=None)
def product_sale(request: Request, product_id: PathId, m: Annotated[Member, BOOKKEEPER],
                 form: Form) -> Response:
    values = {k: str(form.get(k, "")) for k in ("quantity", "buyer", "amount", "day", "note")}
    try:
        commerce_actions.book(context(request, m), "sale", values["buyer"],
                              _amount(values["amount"], "amount"), values["day"] or None,
                              product_id, _whole(values["quantity"]), values["note"])
    except REFUSALS as exc:
        return _product(request, m, product_id, Said(exc), values, 422)
    return back(f"/products/{product_id}", "sale_booked")


def _books(request: Request, m: Member, year: int | None, values: dict | None = None,
           error: str = "", status: int = 200) -> HTMLResponse:
    ctx = context(request, m)
    rows = commerce_actions.books(ctx, year)
    products = ({p["id"]: p for p in commerce_actions.search(ctx)}
                if allowed(m.actor, Action.PRODUCT_READ) else {})
    return render(request, "books.html", m, rows=rows, year=year, products=products,
                  currency=ctx.policy.commerce.currency, values=values or {}, error=error,
                  can_book=allowed(m.actor, Action.FINANCE_RECORD),
                  today=dt.date.today().isoformat(), status=status)


@router.get("/books", response_class=HTMLResponse)
def books_page(request: Request, m: Annotated[Member, Depends(member(Action.FINANCE_READ))],
               year: int | None = None) -> HTMLResponse:
    return _books(request, m, year if year and 2000 <= year <= 9999 else None)


@router.post("/books/cost", response_model=None)
def books_cost(request: Request, m: Annotated[Member, BOOKKEEPER], form: Form) -> Response:
    values = {k: str(form.get(k, "")) for k in ("amount", "payee", "product", "day", "note")}
    try:
        commerce_actions.book(context(request, m), "cost", values["payee"],
                              cents(values["amount"], "amount"), values["day"] or None,
                              _whole(values["product"]) or None,
                              0, values["note"])
    except REFUSALS as exc:
        return _books(request, m, None, values, Said(exc), 422)
    return back("/books", "cost_booked")


@router.post("/books/{booking_id}/void", response_model=None)
def books_void(request: Request, booking_id: PathId, m: Annotated[Member, BOOKKEEPER],
               form: Form) -> Response:
    try:
        commerce_actions.void(context(request, m), booking_id, str(form.get("note", "")))
    except REFUSALS as exc:
        return _books(request, m, None, None, Said(exc), 422)
    return back("/books", "booking_voided")


def _year(year: int | None) -> int:
    return year if year and 2000 <= year <= 9999 else dt.date.today().year


@router.get("/admin/annual", response_class=HTMLResponse)
def annual_page(request: Request, m: Annotated[Member, AUDITOR],
                year: int | None = None) -> HTMLResponse:
    chosen = _year(year)
    data = commerce_actions.annual_report(context(request, m), chosen)
    return render(request, "admin_annual.html", m, r=data, year=chosen,
                  tables={name: annual.table(data, name) for name in annual.TABLES})


@router.get("/admin/annual.xlsx")
def annual_xlsx(request: Request, m: Annotated[Member, AUDITOR],
                year: int | None = None) -> Response:
    chosen = _year(year)
    data = commerce_actions.annual_report(context(request, m), chosen)
    return Response(annual.as_xlsx(data), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="annual-{chosen}.xlsx"'})


@router.get("/admin/annual.csv")
def annual_csv(request: Request, m: Annotated[Member, AUDITOR], year: int | None = None,
               table: str = "sales") -> Response:
    chosen, table = _year(year), table if table in annual.TABLES else "sales"
    data = commerce_actions.annual_report(context(request, m), chosen)
    return Response(annual.as_csv(data, table), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="annual-{chosen}-{table}.csv"'})

