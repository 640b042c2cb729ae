"""Products, prices and books in the console, and what the public pages show of them: a
merchant registers its release as a product, the administrator approves its price, the
merchant books a sale and a cost, and the annual report shows the income to the administrator
and only the charging standards to the public."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from tests.egress.test_egress import ask, job, vote
from tests.service.web_helpers import console, post_form, set_passwords


@pytest.fixture
def release_id(home, people, grant_id) -> int:
    req = ask(home, people, job(home, people, grant_id))
    vote(home, people.reviewer, req["id"])
    return vote(home, people.reviewer2, req["id"])["release_id"]


@pytest.fixture
def app(home, people, release_id):
    set_passwords(home, *people.tokens)
    return create_app(home, workers=0)


def test_a_product_is_registered_priced_sold_and_reported(app, home, people, release_id):
    merchant, admin = console(app, "merchant"), console(app, "admin")
    form = merchant.get("/products").text
    assert 'id="register-product"' in form and f'<option translate="no" value="{release_id}"' in form

    refused = post_form(merchant, "/products", {
        "release": str(release_id), "category": "industry", "description": "区县就诊统计服务",
        "unit": "call", "price": "", "basis": ""}, "/products")
    assert refused.status_code == 422 and "经营性产品的价格须大于零" in refused.text
    assert "区县就诊统计服务" in refused.text  # the form keeps what was typed
    made = post_form(merchant, "/products", {
        "release": str(release_id), "category": "industry", "description": "区县就诊统计服务",
        "unit": "call", "price": "2.50", "basis": "计算与人工成本"}, "/products")
    assert made.status_code == 303
    page = made.headers["location"].split("?")[0]
    product_id = int(re.search(r"/products/(\d+)", page).group(1))
    html = merchant.get(page).text
    assert "尚无获批价格" in html and 'id="book-sale"' not in html  # no price: not on sale
    assert 'id="decide-price"' not in html
    assert f'<option translate="no" value="{release_id}"' not in merchant.get("/products").text

    assert f"/products/{product_id}" in admin.get("/products?pending=true").text
    assert 'id="decide-price"' in admin.get(page).text
    assert post_form(merchant, f"{page}/decision", {"decision": "approve"}, page).status_code == 403
    decided = post_form(admin, f"{page}/decision", {"decision": "approve", "note": "符合指导价"}, page)
    assert decided.status_code == 303
    html = merchant.get(page).text
    assert "2.50 <span translate=\"no\">CNY</span>" in html and 'id="book-sale"' in html

    over = post_form(merchant, f"{page}/sale", {"quantity": "4", "buyer": "某医院", "amount": "10.01",
                                            "day": "", "note": ""}, page)
    assert over.status_code == 422 and "批准价格是上限" in over.text
    sold = post_form(merchant, f"{page}/sale", {"quantity": "4", "buyer": "某医院", "amount": "",
                                            "day": "", "note": ""}, page)
    assert sold.status_code == 303
    assert post_form(merchant, "/books/cost", {"amount": "3.00", "payee": "云服务商",
                                           "product": str(product_id), "day": "",
                                           "note": ""}, "/books").status_code == 303
    books = merchant.get("/books").text
    assert "10.00" in books and "3.00" in books and "云服务商" in books
    assert merchant.get("/admin/annual").status_code == 403

    report = admin.get("/admin/annual").text
    assert re.search(r'id="income">10\.00 <span translate="no">CNY</span><', report)
    assert 'id="annual-distribution"' in report and "1.00" in report  # the platform's 10%
    workbook = admin.get("/admin/annual.xlsx")
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheets = openpyxl.load_workbook(io.BytesIO(workbook.content)).sheetnames
    assert len(sheets) >= 5
    csv = admin.get("/admin/annual.csv", params={"table": "finance"}).text
    assert "10.00" in csv and "3.00" in csv

    public = TestClient(app)
    offered = public.get("/public/products").text
    assert 'id="public-offered"' in offered and "2.50" in offered and "区县就诊统计服务" not in offered
    annual = public.get("/public/annual").text
    assert 'id="public-fee-changes"' in annual and "2.50" in annual
    # Sales, costs, buyers and the distribution of income stay with the administrators.
    for secret in ("某医院", "云服务商", "10.00", "3.00", "annual-distribution"):
        assert secret not in annual and secret not in offered


def test_a_free_product_refuses_a_price_and_a_withdrawn_one_leaves_the_public_list(
        app, home, people, release_id):
    merchant, admin = console(app, "merchant"), console(app, "admin")
    refused = post_form(merchant, "/products", {
        "release": str(release_id), "category": "public_welfare", "description": "公益统计",
        "unit": "copy", "price": "1.00", "basis": "成本"}, "/products")
    assert refused.status_code == 422 and "免费使用" in refused.text
    made = post_form(merchant, "/products", {
        "release": str(release_id), "category": "public_welfare", "description": "公益统计",
        "unit": "copy", "price": "", "basis": ""}, "/products")
    page = made.headers["location"].split("?")[0]
    assert 'id="propose-price"' not in merchant.get(page).text
    public = TestClient(app)
    listed = public.get("/public/products").text
    assert "免费" in listed and "暂无在售产品" not in listed
    reviewer = console(app, "reviewer")
    assert post_form(reviewer, f"{page}/withdraw", {}, page).status_code == 403
    assert post_form(merchant, f"{page}/withdraw", {}, page).status_code == 303
    assert "已下架" in admin.get(page).text
    listed = public.get("/public/products").text
    assert 'id="public-offered"' in listed and "暂无在售产品" in listed
