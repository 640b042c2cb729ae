"""Qualification of operating organizations (Measures Art. 20-21): apply, review, a public
notice of at least five days, then qualified by the sweep; with ``qualified_only`` an
organization not yet qualified cannot apply for data."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select

from accounts import qualification
from actions import Context, applications, public, sweeps
from actions import qualification as qualification_actions
from catalog.applications import Request
from lineage.ledger import LedgerEvent
from policies import OPERATOR, Forbidden
from synth.identifiers import uscc
from tests.conftest import register
from tests.helpers import refused, set_policy

CODE = uscc(random.Random(3), "440100")
CONDITIONS = {"good_standing": "无重大违法记录，未列入失信名单", "capability": "专职团队 20 人",
              "security_management": "设数据安全部，制度齐全", "data_management": "通过 DCMM 三级"}


def submitted(home, people, code=CODE) -> dict:
    return qualification_actions.apply(Context.of(home, people.merchant), code, "张三", "李四",
                                       CONDITIONS)


def test_an_organization_is_qualified_after_review_and_its_public_notice(home, people):
    made = submitted(home, people)
    assert made["status"] == "submitted" and made["org"] == "粤数科技"
    admin = Context.of(home, people.admin)
    assert [q["id"] for q in qualification_actions.search(admin, "submitted")] == [made["id"]]
    # Another organization's merchant sees nothing of it.
    assert qualification_actions.search(Context.of(home, people.merchant_b)) == []
    with refused(home, "comment must not be empty"):
        qualification_actions.review(admin, made["id"], False, "")
    noticed = qualification_actions.review(admin, made["id"], True, "材料齐全")
    today = dt.date.today()
    assert noticed["status"] == "in_notice"
    assert noticed["notice_until"] == (today + dt.timedelta(days=4)).isoformat()  # 5 days
    board = public.operators(home)
    assert [(o["org"], o["status"], o["credit_code"]) for o in board] == [
        ("粤数科技", "in_notice", CODE)]
    assert "conditions" not in board[0] and "legal_representative" not in board[0]

    system = Context.of(home, OPERATOR)
    assert sweeps.qualifications(system) == []  # still in notice
    with home.store.transaction() as s:
        assert qualification.sweep(s, today + dt.timedelta(days=5)) == [made["id"]]
    assert qualification_actions.show(admin, made["id"])["status"] == "qualified"
    with refused(home, "or granted already"):
        submitted(home, people)
    with home.store.read() as s:
        actions = [e.action for e in s.scalars(select(LedgerEvent).where(
            LedgerEvent.subject.like("org:%"), LedgerEvent.action.like("qualification.%"))
            .order_by(LedgerEvent.seq))]
    assert actions == ["qualification.submitted", "qualification.noticed",
                       "qualification.granted"]


def test_an_objection_during_the_notice_ends_it_and_the_organization_may_apply_again(
        home, people):
    admin = Context.of(home, people.admin)
    made = submitted(home, people)
    qualification_actions.review(admin, made["id"], True, "")
    ended = qualification_actions.review(admin, made["id"], False, "公示期间收到实名异议，经核实")
    assert ended["status"] == "rejected"
    with home.store.transaction() as s:
        assert qualification.sweep(s, dt.date.today() + dt.timedelta(days=30)) == []
    assert public.operators(home) == []
    again = submitted(home, people)
    assert again["id"] != made["id"] and again["status"] == "submitted"


def test_bad_applications_are_refused_and_change_nothing(home, people):
    merchant = Context.of(home, people.merchant)
    with refused(home, "not a valid unified social credit code"):
        qualification_actions.apply(merchant, CODE[:-1] + ("0" if CODE[-1] != "0" else "1"),
                                    "张三", "李四", CONDITIONS)
    with refused(home, "must not be empty"):
        qualification_actions.apply(merchant, CODE, "张三", "李四",
                                    {**CONDITIONS, "capability": " "})
    with refused(home, "the conditions are"):
        qualification_actions.apply(merchant, CODE, "张三", "李四", {"other": "x"})
    made = submitted(home, people)
    with refused(home, "under review, in notice"):
        submitted(home, people)
    with pytest.raises(Forbidden):
        qualification_actions.review(Context.of(home, people.regulator), made["id"], True, "")
    with refused(home, "no qualification"):
        qualification_actions.show(Context.of(home, people.merchant_b), made["id"])


def test_with_qualified_only_an_unqualified_organization_cannot_apply_for_data(
        home, people, visits_file):
    register(home, people.provider, visits_file)
    set_policy(home, qualified_only="true")
    request = Request("门诊分析", "按区统计", "卫生规划", "统计表", 12, False,
                      [{"dataset": "visits", "columns": ["district", "fee"]}])
    merchant = Context.of(home, people.merchant)
    with refused(home, "not qualified yet"):
        applications.submit(merchant, request)
    made = submitted(home, people)
    qualification_actions.review(Context.of(home, people.admin), made["id"], True, "")
    with refused(home, "not qualified yet"):  # in notice is not qualified
        applications.submit(merchant, request)
    with home.store.transaction() as s:
        qualification.sweep(s, dt.date.today() + dt.timedelta(days=5))
    assert applications.submit(merchant, request)["status"] == "submitted"
    assert public.offered(home) == []  # unrelated public lists stay as they were

