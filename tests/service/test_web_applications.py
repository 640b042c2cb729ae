"""Application review in the console and the API: return for amendment (退回补正), amend,
withdraw; the reviewer sees each column's entity and the level; the grant's term."""

from __future__ import annotations

import re

import pytest

from service.api.app import create_app
from tests.conftest import PDF, apply, register
from tests.service.web_helpers import console, csrf_of, set_passwords

RATED = {"assess_reasonableness": "pass", "assess_compliance": "pass", "assess_security": "pass"}


@pytest.fixture
def app(home, people, visits_file):
    set_passwords(home, *people.tokens)
    register(home, people.provider, visits_file)
    return create_app(home, workers=0)


def _post(client, path, data, page):
    return client.post(path, data={"csrf": csrf_of(client.get(page).text), **data},
                       follow_redirects=False)


def test_a_reviewer_returns_an_application_the_merchant_amends_and_it_is_approved(
        app, home, people):
    app_id = apply(home, people.merchant, columns=["district", "patient_name", "fee"])
    page = f"/applications/{app_id}"
    reviewer, merchant = console(app, "reviewer"), console(app, "merchant")
    html = reviewer.get(page).text
    assert 'data-entity="PERSON"' in html and "level-L3" in html
    assert 'value="return"' in html
    answer = _post(reviewer, f"{page}/decision", {"decision": "return", "comment": ""}, page)
    assert answer.status_code == 422 and "comment" in answer.text
    answer = _post(reviewer, f"{page}/decision",
                   {"decision": "return", "comment": "姓名字段不必要，请删除"}, page)
    assert answer.status_code == 303
    html = merchant.get(page).text
    assert 'id="returned"' in html and "姓名字段不必要" in html
    assert f'href="{page}/amend"' in html
    form = merchant.get(f"{page}/amend").text
    assert 'name="col:visits:patient_name" checked' in form
    assert reviewer.get(f"{page}/amend").status_code == 403
    answer = _post(merchant, f"{page}/amend", {
        "scenario": "门诊分析", "description": "按区统计门诊量", "purpose": "卫生规划",
        "products": "统计表", "months": "12", "col:visits:district": "on",
        "col:visits:fee": "on"}, f"{page}/amend")
    assert answer.status_code == 303 and answer.headers["location"].endswith("done=amended")
    html = reviewer.get(page).text
    assert "patient_name" not in html and 'value="approve"' in html
    assert 'data-reason="check_pending"' in html and 'data-reason="attachment_missing"' in html
    refused = _post(reviewer, f"{page}/decision", {"decision": "approve", "comment": "同意",
                                                   **RATED}, page)
    assert refused.status_code == 422 and "尚未核查其部分" in refused.text
    # The merchant files its materials from the page.
    for kind in ("letter", "commitment"):
        answer = merchant.post(f"{page}/attachments", data={
            "csrf": csrf_of(merchant.get(page).text), "kind": kind},
            files={"file": (f"{kind}.pdf", PDF, "application/pdf")}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].endswith("done=attached")
    wrong = merchant.post(f"{page}/attachments", data={
        "csrf": csrf_of(merchant.get(page).text), "kind": "other"},
        files={"file": ("scan.png", PDF, "image/png")}, follow_redirects=False)
    assert wrong.status_code == 422 and "不是 .png 文件" in wrong.text
    listed = merchant.get(page).text
    assert listed.count('data-kind="') == 2
    link = re.search(rf'href="({page}/attachments/\d+)"', listed).group(1)
    assert reviewer.get(link).content == PDF
    # The providing department checks its part; a refusal without a comment keeps the form.
    provider = console(app, "provider")
    assert 'id="check-visits"' in provider.get(page).text
    assert f"/applications/{app_id}" in provider.get("/applications").text
    answer = _post(provider, f"{page}/checks/visits",
                   {"verdict": "refuse", **RATED, "assess_security": "fail"}, page)
    assert answer.status_code == 422 and 'role="alert"' in answer.text
    assert '<option value="fail" selected>' in answer.text  # what was chosen stays
    answer = _post(provider, f"{page}/checks/visits", {"verdict": "agree", **RATED}, page)
    assert answer.status_code == 303
    html = reviewer.get(page).text
    assert 'id="missing"' not in html and "badge agreed" in html
    unrated = _post(reviewer, f"{page}/decision", {"decision": "approve", "comment": "同意"}, page)
    assert unrated.status_code == 422
    answer = _post(reviewer, f"{page}/decision", {"decision": "approve", "comment": "同意",
                                                  **RATED}, page)
    assert answer.status_code == 303
    html = merchant.get(page).text
    grant = re.search(r'id="grant".*?</section>', html, re.S).group(0)
    assert "/workspace/" in grant and "badge active" in grant
    assert 'id="assessment"' in html and 'id="attach"' not in html


def test_a_merchant_withdraws_an_application_from_its_page(app, home, people):
    app_id = apply(home, people.merchant)
    page = f"/applications/{app_id}"
    merchant = console(app, "merchant")
    assert 'id="withdraw"' in merchant.get(page).text
    assert 'id="withdraw"' not in console(app, "merchant_b").get("/applications").text
    answer = _post(merchant, f"{page}/withdraw", {}, page)
    assert answer.status_code == 303
    html = merchant.get(page).text
    assert 'id="withdraw"' not in html and 'badge withdrawn' in html
    again = _post(merchant, f"{page}/withdraw", {}, page)
    assert again.status_code == 409


def test_the_api_returns_amends_and_withdraws(home, people, app):
    from fastapi.testclient import TestClient

    client = TestClient(app)
    auth = {p: {"Authorization": f"Bearer {t}"} for p, t in people.tokens.items()}
    app_id = apply(home, people.merchant)
    answer = client.post(f"/api/v1/applications/{app_id}/decision",
                         json={"decision": "return", "comment": "补充用途"}, headers=auth["reviewer"])
    assert answer.status_code == 200 and answer.json()["status"] == "returned"
    body = {"scenario": "门诊分析", "description": "d", "purpose": "p", "products": "x",
            "months": 6, "items": [{"dataset": "visits", "columns": ["district"]}]}
    answer = client.post(f"/api/v1/applications/{app_id}/amend", json=body,
                         headers=auth["merchant"])
    assert answer.status_code == 200 and answer.json()["amendments"] == 1
    assert answer.json()["items"][0]["entities"] == {"district": None}
    answer = client.post(f"/api/v1/applications/{app_id}/withdraw", headers=auth["merchant"])
    assert answer.json()["status"] == "withdrawn"
    answer = client.post(f"/api/v1/applications/{app_id}/decision", json={"comment": "x"},
                         headers=auth["reviewer"])
    assert answer.status_code == 422


def test_a_form_sent_twice_lands_on_what_the_first_sending_made(app, home, people):
    merchant = console(app, "merchant")
    form = merchant.get("/applications/new").text
    key = re.search(r'name="form_key" value="([0-9a-f]+)"', form).group(1)
    data = {"csrf": csrf_of(form), "form_key": key, "scenario": "两次提交", "description": "d",
            "purpose": "p", "products": "x", "months": "12", "col:visits:district": "on"}
    first = merchant.post("/applications", data=data, follow_redirects=False)
    again = merchant.post("/applications", data=data, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert len(merchant.get("/api/v1/applications", headers={
        "Authorization": f"Bearer {people.tokens['merchant']}"}).json()) == 1
    # A refused sending frees its key: the corrected form goes through.
    bad = merchant.post("/applications", data={**data, "scenario": "新\x07", "form_key": key * 2},
                        follow_redirects=False)
    assert bad.status_code == 422
    fixed = merchant.post("/applications", data={**data, "scenario": "另一场景",
                                                 "form_key": key * 2}, follow_redirects=False)
    assert fixed.status_code == 303 and fixed.headers["location"] != first.headers["location"]
    # Another member cannot replay someone's key to learn where it led.
    other = console(app, "merchant_b")
    stolen = other.post("/applications", data={**data, "csrf": csrf_of(
        other.get("/applications/new").text)}, follow_redirects=False)
    assert stolen.status_code == 409
