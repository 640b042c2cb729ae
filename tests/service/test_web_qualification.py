"""Qualification of operating organizations in the console and the public notice page."""

from __future__ import annotations

import random

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from synth.identifiers import uscc
from tests.service.web_helpers import console, post_form, set_passwords

CODE = uscc(random.Random(5), "440100")
PAGE = "/qualifications"
FORM = {"credit_code": CODE, "legal_representative": "张三", "security_officer": "李四",
        "good_standing": "无重大违法记录", "capability": "专职团队 20 人",
        "security_management": "设数据安全部", "data_management": "通过 DCMM 三级"}


@pytest.fixture
def app(home, people):
    set_passwords(home, *people.tokens)
    return create_app(home, workers=0)


def test_a_merchant_applies_the_administrator_approves_and_the_public_sees_the_notice(app):
    merchant, admin = console(app, "merchant"), console(app, "admin")
    assert 'id="apply-qualification"' in merchant.get("/qualifications").text
    bad = post_form(merchant, "/qualifications", {**FORM, "credit_code": "91440100ABCDEFGHIJ"},
                    PAGE)
    assert bad.status_code == 422 and "不是有效的统一社会信用代码" in bad.text
    assert "专职团队 20 人" in bad.text  # what was typed stays
    made = post_form(merchant, "/qualifications", FORM, PAGE)
    assert made.status_code == 303
    html = merchant.get("/qualifications").text
    assert 'data-status="submitted"' in html and 'id="apply-qualification"' not in html
    assert 'data-status="submitted"' not in console(app, "merchant_b").get("/qualifications").text

    page = admin.get("/qualifications").text
    qualification_id = page.split('data-qualification="')[1].split('"')[0]
    assert f'id="review-{qualification_id}"' in page and "专职团队 20 人" in page
    assert post_form(merchant, f"/qualifications/{qualification_id}/review",
                     {"decision": "approve"}, PAGE).status_code == 403
    approved = post_form(admin, f"/qualifications/{qualification_id}/review",
                         {"decision": "approve", "comment": ""}, PAGE)
    assert approved.status_code == 303
    public = TestClient(app).get("/public/operators").text
    assert 'data-status="in_notice"' in public and CODE in public and "粤数科技" in public
    for inside in ("专职团队", "张三", "李四"):  # declarations and people stay inside
        assert inside not in public
    regulator = console(app, "regulator").get("/qualifications").text
    assert 'data-status="in_notice"' in regulator and "review-" not in regulator
    ended = post_form(admin, f"/qualifications/{qualification_id}/review",
                      {"decision": "reject", "comment": "公示期间收到实名异议，经核实"}, PAGE)
    assert ended.status_code == 303
    assert "暂无公示中或已取得资格的机构" in TestClient(app).get("/public/operators").text
