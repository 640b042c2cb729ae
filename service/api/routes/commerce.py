"""/api/v1 products and their prices, the operators' sales and costs, and the annual operation
report (Measures Art. 27, 29, 35-37). Amounts are whole hundredths of the policy's currency."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from actions import Context, views
from actions import commerce as commerce_actions
from policies.permissions import Action
from reporting import annual
from service.api.params import BodyId, PathId, QueryId
from service.api.routes.deps import acting

router = APIRouter(tags=["commerce"])

Lister = Annotated[Context, Depends(acting(Action.PRODUCT_LIST))]
Reader = Annotated[Context, Depends(acting(Action.PRODUCT_READ))]
Bookkeeper = Annotated[Context, Depends(acting(Action.FINANCE_RECORD))]
Auditor = Annotated[Context, Depends(acting(Action.LEDGER_AUDIT))]
Cents = Annotated[int, Field(ge=0, le=10**13)]
Table = Literal["sales", "finance", "fee_changes", "distribution", "data_use"]


class NewProduct(BaseModel):
    release_id: BodyId
    category: str = Field(max_length=40, description="one of the policy's [commerce] categories")
    description: str
    price_unit: str = Field(max_length=20, description="what a price is per (policy)")
    price_cents: Cents | None = Field(None, description="a commercial product's proposed price")
    basis: str = Field("", description="the cost basis and reasons of the proposed price")


class NewPrice(BaseModel):
    price_cents: Cents
    basis: str


class PriceDecision(BaseModel):
    approve: bool
    note: str = Field("", description="reasons; required for a rejection")


class NewBooking(BaseModel):
    kind: Literal["sale", "cost"]
    counterparty: str = Field(description="the buyer, or whom a cost paid")
    amount_cents: Cents | None = Field(None, description="a sale: default quantity x the price "
                                                         "in force on its day")
    day: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    product_id: BodyId | None = None
    quantity: int = Field(0, ge=0, le=10**9)
    note: str = ""


class Void(BaseModel):
    note: str = Field(description="why the booking was wrong")


@router.post("/commerce/products", status_code=201)
def product_register(body: NewProduct, ctx: Lister) -> views.ListedProduct:
    """Register a release of your organization as a product: free for public-governance and
    welfare categories, otherwise at a proposed price an administrator approves."""
    return commerce_actions.register(ctx, body.release_id, body.category, body.description,
                                     body.price_unit, body.price_cents, body.basis)


@router.get("/commerce/products")
def product_list(ctx: Reader, status: Literal["listed", "withdrawn"] | None = None,
                 pending: bool = False) -> list[views.ListedProduct]:
    """Products you may read; ``pending``: those with a price awaiting approval."""
    return commerce_actions.search(ctx, status, pending)


@router.get("/commerce/products/{product_id}")
def product_detail(product_id: PathId, ctx: Reader) -> views.ListedProduct:
    return commerce_actions.show(ctx, product_id)


@router.post("/commerce/products/{product_id}/price")
def product_price(product_id: PathId, body: NewPrice, ctx: Lister) -> views.ListedProduct:
    """Propose a new price; the one in force stays until an administrator approves it."""
    return commerce_actions.propose_price(ctx, product_id, body.price_cents, body.basis)


@router.post("/commerce/products/{product_id}/price/decision")
def product_price_decision(product_id: PathId, body: PriceDecision,
                           ctx: Annotated[Context, Depends(acting(Action.PRODUCT_PRICE))]
                           ) -> views.ListedProduct:
    """Approve or reject a product's proposed price (administrators)."""
    return commerce_actions.decide_price(ctx, product_id, body.approve, body.note)


@router.post("/commerce/products/{product_id}/withdrawal")
def product_withdraw(product_id: PathId,
                     ctx: Annotated[Context, Depends(acting(Action.PRODUCT_WITHDRAW))]
                     ) -> views.ListedProduct:
    """No longer offer a product (its operator or an administrator)."""
    return commerce_actions.withdraw(ctx, product_id)


@router.post("/commerce/bookings", status_code=201)
def booking_record(body: NewBooking, ctx: Bookkeeper) -> views.BookingView:
    """Book a sale of one of your products, or a cost."""
    return commerce_actions.book(ctx, body.kind, body.counterparty, body.amount_cents,
                                 body.day, body.product_id, body.quantity, body.note)


@router.get("/commerce/bookings")
def booking_list(ctx: Annotated[Context, Depends(acting(Action.FINANCE_READ))],
                 year: Annotated[int | None, Query(ge=2000, le=9999)] = None,
                 kind: Literal["sale", "cost"] | None = None,
                 product_id: QueryId = None) -> list[views.BookingView]:
    return commerce_actions.books(ctx, year, kind, product_id)


@router.post("/commerce/bookings/{booking_id}/void")
def booking_void(booking_id: PathId, body: Void, ctx: Bookkeeper) -> views.BookingView:
    """Void a booking made in error; it stays on the books, reversed."""
    return commerce_actions.void(ctx, booking_id, body.note)


@router.get("/reports/annual", response_model=None)
def annual_report(ctx: Auditor, year: Annotated[int, Query(ge=2000, le=9999)],
                  format: Literal["json", "csv", "xlsx"] = "json",
                  table: Table = "sales") -> Any:
    """The annual operation report (Art. 37) from the ledger; ``format=csv`` gives one
    ``table``, ``xlsx`` a workbook of them all."""
    report = commerce_actions.annual_report(ctx, year)
    if format == "csv":
        return Response(annual.as_csv(report, table), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="annual-{year}-{table}.csv"'})
    if format == "xlsx":
        return Response(annual.as_xlsx(report), media_type=XLSX, headers={
            "Content-Disposition": f'attachment; filename="annual-{year}.xlsx"'})
    return report


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
