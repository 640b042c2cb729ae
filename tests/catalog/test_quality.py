"""Data-quality feedback: merchants report issues on a dataset version, the providing
department acknowledges or rejects them in time and fixes them with a new version."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from actions import Context
from actions import quality as quality_actions
from catalog import quality
from catalog.models import QualityIssue
from catalog.workdays import add_working_days
from lineage.ledger import LedgerEvent
from notices import inbox, todo
from tests.conftest import register
from tests.helpers import refused


@pytest.fixture
def registered(home, people, visits_file):
    return register(home, people.provider, visits_file)


def report(home, actor, kind="wrong_values", columns=("fee",), text="费用有负数", version=None):
    with home.store.transaction() as s:
        return quality.report(s, actor, home.policy, "visits", kind, list(columns), text,
                              version).as_dict()


def answer(home, actor, issue_id, decision="acknowledge", reply="已核实，将更正"):
    with home.store.transaction() as s:
        return quality.answer(s, actor, home.policy, issue_id, decision, reply).as_dict()


def test_an_issue_is_acknowledged_then_fixed_by_a_new_version(home, people, registered,
                                                              visits_file):
    made = report(home, people.merchant)
    today = dt.date.today()
    assert made["status"] == "open" and made["version"] == 1 and made["org"] == "粤数科技"
    assert made["answer_due"] == add_working_days(
        today, home.policy.catalog.quality_answer_working_days, home.policy)[0].isoformat()
    with refused(home, f"no quality issue {made['id']}", "not_found"):  # not theirs to see
        answer(home, people.provider_b, made["id"])
    with refused(home, "needs the role", "forbidden"):
        answer(home, people.merchant, made["id"])
    with refused(home, "reply must not be empty"):
        answer(home, people.provider, made["id"], reply="")
    assert answer(home, people.provider, made["id"])["status"] == "acknowledged"
    with refused(home, "registered after version 1", "invalid"), home.store.transaction() as s:
        quality.fix(s, people.provider, home.policy, made["id"], 1, "")
    register(home, people.provider, visits_file)  # version 2, the corrected data
    with home.store.transaction() as s:
        fixed = quality.fix(s, people.provider, home.policy, made["id"], 2, "").as_dict()
    assert (fixed["status"], fixed["fixed_version"]) == ("fixed", 2) and fixed["closed_at"]
    with refused(home, "is fixed; it cannot become rejected", "conflict"):
        answer(home, people.provider, made["id"], "reject")
    with home.store.read() as s:
        logged = [(e.action, json.loads(e.payload)) for e in s.scalars(select(LedgerEvent).where(
            LedgerEvent.subject == f"quality:{made['id']}").order_by(LedgerEvent.seq))]
    assert [a for a, _ in logged] == ["quality.reported", "quality.answered", "quality.fixed"]
    # The ledger keeps names, codes and counts: never the merchant's or the department's text.
    assert logged[0][1]["description_chars"] == len("费用有负数")
    assert "费用有负数" not in json.dumps([p for _, p in logged], ensure_ascii=False)


def test_bad_reports_are_refused_and_change_nothing(home, people, registered):
    with refused(home, "has no column 'salary'"):
        report(home, people.merchant, columns=("salary",))
    with refused(home, "has no version 7"):
        report(home, people.merchant, version=7)
    with refused(home, "kind is one of"):
        report(home, people.merchant, kind="bad")
    with refused(home, "must not be empty"):
        report(home, people.merchant, text="  ")
    with refused(home, "control or invisible character"):
        report(home, people.merchant, text="a\u202eb")
    with refused(home, "listed twice"):
        report(home, people.merchant, columns=("fee", "fee"))
    with refused(home, "needs the role merchant", "forbidden"):
        report(home, people.provider)
    with refused(home, "no dataset named 'nope'", "not_found"), home.store.transaction() as s:
        quality.report(s, people.merchant, home.policy, "nope", "other", [], "x")


def test_each_role_sees_its_issues_and_the_department_its_to_dos(home, people, registered):
    made = report(home, people.merchant)
    ctx = {k: Context.of(home, getattr(people, k)) for k in (
        "merchant", "merchant_b", "provider", "provider_b", "reviewer", "admin")}
    seen = {k: [i["id"] for i in quality_actions.search(c)] for k, c in ctx.items()}
    assert seen == {"merchant": [made["id"]], "merchant_b": [], "provider": [made["id"]],
                    "provider_b": [], "reviewer": [made["id"]], "admin": [made["id"]]}
    with pytest.raises(Exception, match=f"no quality issue {made['id']}"):
        quality_actions.show(ctx["merchant_b"], made["id"])
    with home.store.read() as s:
        kinds = {t.kind: t.count for t in todo.todos(s, people.provider, home.policy)}
        assert kinds["quality_to_answer"] == 1
        assert inbox.notices(s, people.provider)[0]["action"] == "quality.reported"
        assert inbox.notices(s, people.provider_b) == []
    answer(home, people.provider, made["id"], "reject", "口径如此，非错误")
    with home.store.read() as s:
        assert "quality_to_answer" not in {t.kind for t in todo.todos(s, people.provider,
                                                                      home.policy)}
        assert inbox.notices(s, people.merchant)[0]["action"] == "quality.answered"
        assert inbox.notices(s, people.merchant_b) == []


def test_an_unanswered_issue_becomes_overdue_for_the_admins(home, people, registered):
    made = report(home, people.merchant)
    with home.store.transaction() as s:
        issue = s.get(QualityIssue, made["id"])
        issue.answer_due = dt.date(2020, 1, 2)
    shown = quality_actions.show(Context.of(home, people.admin), made["id"])
    assert shown["overdue"] is True
    with home.store.read() as s:
        kinds = {t.kind: t.count for t in todo.todos(s, people.admin, home.policy)}
    assert kinds["quality_overdue"] == 1
    late = answer(home, people.provider, made["id"])
    with home.store.read() as s:
        payload = json.loads(s.scalars(select(LedgerEvent.payload).where(
            LedgerEvent.action == "quality.answered")).one())
    assert payload["late"] is True and late["status"] == "acknowledged"
