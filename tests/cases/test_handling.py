"""Appeals, complaints and security incidents: opened by users, responded to and resolved by
administrators within the policy's working days, read by the regulator."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from actions import Context
from actions import cases as case_actions
from cases import handling
from catalog import applications
from catalog.workdays import add_working_days
from lineage.ledger import LedgerEvent
from notices import inbox, todo
from tests.conftest import apply, register
from tests.helpers import refused


@pytest.fixture
def rejected(home, people, visits_file):
    register(home, people.provider, visits_file)
    app_id = apply(home, people.merchant)
    with home.store.transaction() as s:
        applications.decide(s, people.reviewer, home.policy, app_id, "reject", "用途不明确")
    return app_id


def open_case(home, actor, kind="complaint", subject="", severity="", text="审核意见不清楚"):
    with home.store.transaction() as s:
        return handling.open_case(s, actor, home.policy, kind, "标题", text, subject,
                                  severity).as_dict()


def test_an_upheld_appeal_sends_the_rejection_back_to_review(home, people, rejected):
    with refused(home, "only a rejection can be appealed|no application", None):
        open_case(home, people.merchant, "appeal", "application:999")
    with refused(home, f"no application {rejected}", "not_found"):
        open_case(home, people.merchant_b, "appeal", f"application:{rejected}")
    with refused(home, "appeals are a merchant's"):
        open_case(home, people.provider, "appeal", f"application:{rejected}")
    made = open_case(home, people.merchant, "appeal", f"application:{rejected}")
    assert made["respond_due"] == add_working_days(
        __import__("datetime").date.today(), home.policy.cases.response_working_days,
        home.policy)[0].isoformat()
    with refused(home, f"case {made['id']} already appeals"):
        open_case(home, people.merchant, "appeal", f"application:{rejected}")
    with refused(home, "needs the role admin", "forbidden"), home.store.transaction() as s:
        handling.respond(s, people.reviewer, home.policy, made["id"], "收到")
    with home.store.transaction() as s:
        assert handling.respond(s, people.admin, home.policy, made["id"],
                                "已受理").status == "in_progress"
    with refused(home, "closed with uphold or dismiss"), home.store.transaction() as s:
        handling.resolve(s, people.admin, home.policy, made["id"], "resolve", "x")
    with home.store.transaction() as s:
        handling.resolve(s, people.admin, home.policy, made["id"], "uphold", "驳回理由不充分")
    with home.store.read() as s:
        app = applications.get(s, people.reviewer, rejected)
        assert app.status == "submitted" and app.decided_at is None
        assert [c.verdict for c in app.checks] == ["pending"]  # checked afresh
        actions = [e.action for e in s.scalars(select(LedgerEvent).order_by(LedgerEvent.seq))]
        payloads = [json.loads(p) for p in s.scalars(select(LedgerEvent.payload).where(
            LedgerEvent.subject == f"case:{made['id']}"))]
    assert actions[-4:] == ["case.opened", "case.responded", "case.resolved",
                            "application.reopened"]
    assert "驳回理由" not in json.dumps(payloads, ensure_ascii=False)  # counts, not texts


def test_incidents_have_a_severity_and_short_deadlines(home, people):
    with refused(home, "severity is one of"):
        open_case(home, people.reviewer, "incident")
    with refused(home, "only an incident has a severity"):
        open_case(home, people.reviewer, "complaint", severity="high")
    with refused(home, "only an appeal names a subject"):
        open_case(home, people.reviewer, "complaint", "application:1")
    with refused(home, "needs the role", "forbidden"):
        open_case(home, people.regulator, "incident", severity="high")
    made = open_case(home, people.reviewer, "incident", severity="high", text="疑似越权访问")
    assert made["respond_due"] <= made["resolve_due"]
    with home.store.read() as s:
        assert {t.kind: t.count for t in todo.todos(s, people.admin, home.policy)}[
            "cases_to_handle"] == 1
        assert inbox.notices(s, people.admin)[0]["action"] == "case.opened"
    with refused(home, "closed with resolve"), home.store.transaction() as s:
        handling.resolve(s, people.admin, home.policy, made["id"], "uphold", "x")
    with home.store.transaction() as s:
        assert handling.resolve(s, people.admin, home.policy, made["id"], "resolve",
                                "已封禁账号并复盘").status == "resolved"


def test_each_sees_their_own_cases_and_the_regulator_all(home, people):
    mine = open_case(home, people.merchant)
    other = open_case(home, people.provider)
    seen = {k: {c["id"] for c in case_actions.search(Context.of(home, getattr(people, k)))}
            for k in ("merchant", "merchant_b", "provider", "provider_b", "admin",
                      "regulator")}
    assert seen == {"merchant": {mine["id"]}, "merchant_b": set(), "provider": {other["id"]},
                    "provider_b": set(), "admin": {mine["id"], other["id"]},
                    "regulator": {mine["id"], other["id"]}}
    with pytest.raises(Exception, match=f"no case {mine['id']}"):
        case_actions.show(Context.of(home, people.merchant_b), mine["id"])
    with home.store.transaction() as s:
        handling.respond(s, people.admin, home.policy, mine["id"], "已受理")
    with home.store.read() as s:
        assert inbox.notices(s, people.merchant)[0]["action"] == "case.responded"
        assert inbox.notices(s, people.merchant_b) == []
