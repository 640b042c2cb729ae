"""Products registered from releases, their prices, sales and costs, and the annual report."""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from actions import Context, commerce, public
from commerce.distribution import split
from commerce.money import cents, decimal
from lineage.ledger import LedgerEvent
from policies import load_policy
from tests.egress.test_egress import ask, job, vote
from tests.helpers import refused

YEAR = dt.date.today().year


@pytest.fixture
def release_id(home, people, grant_id) -> int:
    req = ask(home, people, job(home, people, grant_id))
    vote(home, people.reviewer, req["id"])
    return vote(home, people.reviewer2, req["id"])["release_id"]


def as_(home, actor) -> Context:
    return Context.of(home, actor)


def test_a_commercial_product_sells_at_its_approved_price_and_its_income_is_shared(
        home, people, release_id):
    merchant, admin = as_(home, people.merchant), as_(home, people.admin)
    product = commerce.register(merchant, release_id, "industry", "区县就诊统计服务", "call",
                                price_cents=250, basis="计算与人工成本")
    assert product["sources"] == ["visits"] and not product["free"]
    assert product["price_cents"] is None and product["pending_price_cents"] == 250
    assert not product["on_sale"]
    with refused(home, "no approved price"):
        commerce.book(merchant, "sale", "某医院", product_id=product["id"], quantity=4)
    assert public.offered(home) == []  # not on the public list yet
    assert [p["id"] for p in commerce.search(admin, pending=True)] == [product["id"]]

    priced = commerce.decide_price(admin, product["id"], True, "符合指导价")
    assert priced["price_cents"] == 250 and priced["on_sale"]
    sale = commerce.book(merchant, "sale", "某医院", product_id=product["id"], quantity=4)
    assert (sale["amount_cents"], sale["unit_price_cents"]) == (1000, 250)
    with refused(home, "the approved price is a ceiling"):
        commerce.book(merchant, "sale", "某医院", amount_cents=1001, product_id=product["id"],
                      quantity=4)
    commerce.book(merchant, "sale", "另一家医院", amount_cents=800, product_id=product["id"],
                  quantity=4)  # a discount
    mistake = commerce.book(merchant, "sale", "错记", product_id=product["id"], quantity=1)
    commerce.void(merchant, mistake["id"], "重复登记")
    commerce.book(merchant, "cost", "云服务商", amount_cents=300, product_id=product["id"])

    raised = commerce.propose_price(merchant, product["id"], 300, "成本上涨")
    assert raised["price_cents"] == 250 and raised["pending_price_cents"] == 300
    commerce.decide_price(admin, product["id"], True, "")
    assert [p["price_cents"] for p in public.offered(home)] == [300]

    report = commerce.annual_report(admin, YEAR)
    assert report["sales"] == [{"product_no": product["product_no"], "product": "统计表",
                                "org": "粤数科技", "category": "industry", "free": False,
                                "quantity": 8, "bookings": 2, "income": 1800}]
    assert report["finance"] == [{"org": "粤数科技", "income": 1800, "cost": 300, "net": 1500}]
    assert [(c["previous"], c["price"]) for c in report["fee_changes"]] == [(None, 250),
                                                                           (250, 300)]
    # 10% to the platform, 30% to the one source dataset, the operator the rest.
    assert {(d["party"], d["amount"]) for d in report["distribution"]} == {
        ("platform", 180), ("visits", 540), ("粤数科技", 1080)}
    assert report["operation"]["products_commercial"] == 1

    book = openpyxl.load_workbook(io.BytesIO(commerce_xlsx(report)))
    assert book.sheetnames[:3] == ["summary", "sales", "finance"]
    assert list(book["sales"].iter_rows(values_only=True))[1][-1] == "18.00"
    shown = public.annual_report(home, YEAR)  # counts and standards, not anyone's books
    assert set(shown) == {"year", "currency", "operation", "fee_changes", "data_use",
                          "review_timeliness"}
    assert "1800" not in json.dumps(shown) and "rows_produced" not in json.dumps(shown)
    with home.store.read() as s:  # the ledger proves the amounts, not who bought
        payloads = s.scalars(select(LedgerEvent.payload).where(
            LedgerEvent.action.like("finance.%"))).all()
    assert len(payloads) == 5 and not any("医院" in p for p in payloads)
    assert json.loads(payloads[0])["amount_cents"] == 1000


def commerce_xlsx(report):
    from reporting.annual import as_xlsx
    return as_xlsx(report)


def test_a_free_product_is_used_at_no_charge_and_each_operator_sees_its_own(
        home, people, release_id):
    merchant = as_(home, people.merchant)
    product = commerce.register(merchant, release_id, "public_welfare", "公益查询", "copy")
    assert product["free"] and product["on_sale"]
    use = commerce.book(merchant, "sale", "某街道办", product_id=product["id"], quantity=3)
    assert use["amount_cents"] == 0
    with refused(home, "used free of charge"):
        commerce.book(merchant, "sale", "某街道办", amount_cents=100, product_id=product["id"],
                      quantity=1)
    with refused(home, "used free of charge"):
        commerce.propose_price(merchant, product["id"], 100, "想收费")
    other = as_(home, people.merchant_b)
    assert commerce.search(other) == [] and commerce.books(other) == []
    with refused(home, "no product", "not_found"):
        commerce.book(other, "sale", "x", product_id=product["id"], quantity=1)
    commerce.withdraw(merchant, product["id"])
    tomorrow_listing = dt.date.today() - dt.timedelta(days=1)
    with refused(home, "was not offered on"):
        commerce.book(merchant, "sale", "某街道办", product_id=product["id"], quantity=1,
                      day=tomorrow_listing.isoformat())
    assert public.offered(home) == []
    report = commerce.annual_report(as_(home, people.regulator), YEAR)
    assert report["sales"][0]["quantity"] == 3 and report["distribution"] == []


def test_a_product_released_last_year_and_sold_this_year_is_reported_by_name(
        home, people, grant_id, monkeypatch):
    from lineage import ledger

    last_year = dt.datetime(YEAR - 1, 11, 30, 9, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(ledger, "now_iso", lambda: ledger.stamp(last_year))
    req = ask(home, people, job(home, people, grant_id))
    vote(home, people.reviewer, req["id"])
    released = vote(home, people.reviewer2, req["id"])["release_id"]
    monkeypatch.undo()
    merchant = as_(home, people.merchant)
    product = commerce.register(merchant, released, "industry", "区县就诊统计服务", "copy",
                                price_cents=500, basis="成本")
    commerce.decide_price(as_(home, people.admin), product["id"], True, "")
    commerce.book(merchant, "sale", "某医院", product_id=product["id"], quantity=1)
    sales = commerce.annual_report(as_(home, people.admin), YEAR)["sales"]
    assert [(row["product"], row["income"]) for row in sales] == [("统计表", 500)]
    assert commerce.annual_report(as_(home, people.admin), YEAR)["operation"]["releases"] == 0


def test_bad_input_is_refused_and_changes_nothing(home, people, release_id):
    merchant = as_(home, people.merchant)
    with refused(home, "category is one of"):
        commerce.register(merchant, release_id, "casino", "x", "call", 100, "y")
    with refused(home, "give it no price"):
        commerce.register(merchant, release_id, "public_governance", "x", "call", 100)
    with refused(home, "needs a price above zero"):
        commerce.register(merchant, release_id, "industry", "x", "call", None, "y")
    with refused(home, "a price is per one of"):
        commerce.register(merchant, release_id, "industry", "x", "hour", 100, "y")
    with refused(home, "no release"):
        commerce.register(as_(home, people.merchant_b), release_id, "industry", "x", "call",
                          100, "y")
    with refused(home, "the role merchant"):
        commerce.register(as_(home, people.admin), release_id, "industry", "x", "call", 100,
                          "y")
    product = commerce.register(merchant, release_id, "industry", "x", "call", 100, "y")
    with refused(home, "already product", "conflict"):
        commerce.register(merchant, release_id, "industry", "x", "call", 100, "y")
    with refused(home, "already has a price awaiting"):
        commerce.propose_price(merchant, product["id"], 120, "y")
    with refused(home, "in the future"):
        commerce.book(merchant, "cost", "x", amount_cents=5,
                      day=(dt.date.today() + dt.timedelta(days=2)).isoformat())
    with refused(home, "an amount is from 0"):
        commerce.book(merchant, "cost", "x", amount_cents=-5)
    with refused(home, "a sale names the product"):
        commerce.book(merchant, "sale", "x", quantity=1)
    with refused(home, "the role admin"):
        commerce.decide_price(merchant, product["id"], True, "")
    with refused(home, "note must not be empty"):
        commerce.decide_price(as_(home, people.admin), product["id"], False, "")


@given(st.integers(0, 10**12), st.lists(st.sampled_from("abcdef"), unique=True, max_size=6),
       st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 50)),
       st.sampled_from(["equal", "jobs"]))
def test_the_parts_of_an_income_add_up_to_it(income, sources, jobs, rule):
    policy = load_policy()
    policy = policy.__class__(**{**policy.__dict__, "commerce": policy.commerce.__class__(
        **{**dict(policy.commerce), "provider_split": rule})})
    parts = split(income, sources, jobs, policy)
    assert parts["platform_cents"] + parts["operator_cents"] + sum(
        parts["sources"].values()) == income
    assert set(parts["sources"]) == set(sources) and min(parts["sources"].values(),
                                                         default=0) >= 0


@given(st.integers(0, 10**14))
def test_amounts_read_back_as_written(amount):
    assert cents(decimal(amount)) == amount
    assert cents("12.5") == 1250 and cents("3") == 300
