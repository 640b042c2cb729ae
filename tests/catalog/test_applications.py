"""Applications: one scenario one list one approval, deadlines in working days, sweeps, grants."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from catalog import applications, reviews
from catalog.models import Application
from catalog.workdays import add_working_days
from lineage.ledger import LedgerEvent
from sandbox import jobs
from tests.conftest import PASS, apply, approve, first_level, register
from tests.helpers import refused


@pytest.fixture
def registered(home, people, visits_file):
    return register(home, people.provider, visits_file)


def test_deadline_counts_chinese_working_days_over_national_day(home):
    # 2025-09-30 + 10 working days skips the Oct 1-8 holiday and counts the adjusted
    # Saturday 2025-10-11 as a working day.
    deadline, exact = add_working_days(dt.date(2025, 9, 30), 10, home.policy)
    assert exact
    assert deadline == dt.date(2025, 10, 21)  # Oct 9, 10, 11 (Sat), 13-17, 20, 21


def test_deadline_beyond_the_calendar_falls_back_to_weekdays_and_says_so(home):
    deadline, exact = add_working_days(dt.date(2030, 3, 1), 10, home.policy)
    assert not exact
    assert deadline == dt.date(2030, 3, 15)


def test_policy_extra_holidays_apply(home):
    policy = dataclasses.replace(home.policy, applications=dataclasses.replace(
        home.policy.applications, extra_holidays=("2030-03-04",)))
    assert add_working_days(dt.date(2030, 3, 1), 10, policy)[0] == dt.date(2030, 3, 18)


def test_submit_and_approve_creates_a_grant_for_the_period(home, people, registered):
    app_id = apply(home, people.merchant, months=6)
    approve(home, people.reviewer, app_id, "ok")
    with home.store.read() as s:
        app = s.get(Application, app_id)
        grant = app.grant
        assert app.status == "approved"
        assert (grant.expires_at - grant.created_at).days in range(181, 185)
        assert grant.as_dict()["datasets"][0]["columns"] == [
            "district", "department", "visit_date", "fee", "age"]


def test_rejection_needs_a_comment_and_creates_no_grant(home, people, registered):
    app_id = apply(home, people.merchant)
    with refused(home, "comment must not be empty"), home.store.transaction() as s:
        applications.decide(s, people.reviewer, home.policy, app_id, False, "")
    with home.store.transaction() as s:
        app = applications.decide(s, people.reviewer, home.policy, app_id, False, "用途不明确")
        assert app.status == "rejected" and app.grant is None


@pytest.mark.parametrize("change,message", [
    ({"months": 61}, "exceeds the policy maximum of 60 months"),
    ({"months": 0}, "positive number of months"),
    ({"name": "nope"}, "no dataset named 'nope'"),
    ({"columns": ["district", "salary"]}, "has no column 'salary'"),
    ({"columns": ["district", "district"]}, "listed twice"),
    ({"scenario": "bad\x07name"}, "control or invisible"),
])
def test_bad_applications_are_refused(home, people, registered, change, message):
    with refused(home, message):
        apply(home, people.merchant, **change)


def test_one_scenario_one_application(home, people, registered):
    apply(home, people.merchant)
    with refused(home, "one scenario, one list, one approval", "conflict"):
        apply(home, people.merchant)
    apply(home, people.merchant_b)  # another organization may use the same scenario name


def test_only_merchants_apply_and_only_reviewers_decide(home, people, registered):
    with refused(home, "needs the role", "forbidden"):
        apply(home, people.provider)
    app_id = apply(home, people.merchant)
    for actor in (people.merchant, people.admin):
        with refused(home, "needs the role", "forbidden"), home.store.transaction() as s:
            applications.decide(s, actor, home.policy, app_id, True, "")


def test_merchants_see_only_their_organizations_applications(home, people, registered):
    app_id = apply(home, people.merchant)
    with home.store.read() as s:
        assert applications.list_applications(s, people.merchant_b) == []
        assert [a.id for a in applications.list_applications(s, people.reviewer)] == [app_id]
    with refused(home, f"no application {app_id}", "not_found"), home.store.read() as s:
        applications.get(s, people.merchant_b, app_id)


def _sweep_late(home, policy, app_id):
    with home.store.transaction() as s:
        assert applications.sweep_overdue(s, policy)["deemed_approved"] == []
    later = dt.datetime.now() + dt.timedelta(days=30)
    with home.store.transaction() as s:
        applications.sweep_overdue(s, policy, now=later)
    with home.store.read() as s:
        app = s.get(Application, app_id)
        return app.status, app.grant is not None, app.deemed


@pytest.mark.parametrize("action,status", [("deemed_approved", "approved"),
                                           ("escalate", "escalated")])
def test_sweep_applies_the_overdue_action(home, people, visits_file, action, status):
    register(home, people.provider, visits_file, level="L2")
    app_id = apply(home, people.merchant)
    first_level(home, app_id, check=False)  # the materials are filed; the department is silent
    policy = home.policy.changed("applications", overdue_action=action)
    deemed = action == "deemed_approved"
    assert _sweep_late(home, policy, app_id) == (status, deemed, deemed)
    with home.store.read() as s:
        (check,) = s.get(Application, app_id).checks
        assert check.verdict == ("deemed" if deemed else "pending")


@pytest.mark.parametrize("materials,verdict", [(False, None), (True, "refuse")])
def test_silence_never_approves_without_materials_or_against_a_department(
        home, people, visits_file, materials, verdict):
    register(home, people.provider, visits_file, level="L2")
    app_id = apply(home, people.merchant)
    first_level(home, app_id, attach=materials, check=False)
    if verdict:
        with home.store.transaction() as s:
            reviews.check(s, people.provider, home.policy, s.get(Application, app_id), "visits",
                          verdict, {**PASS, "security": "fail"}, "含敏感字段，不同意")
    policy = home.policy.changed("applications", overdue_action="deemed_approved")
    assert _sweep_late(home, policy, app_id) == ("escalated", False, False)


@pytest.mark.parametrize("level,raw", [("L3", ()), ("L4", ()), ("L2", ("patient_name",))])
def test_silence_never_approves_sensitive_data_or_raw_identifiers(home, people, visits_file,
                                                                  level, raw):
    register(home, people.provider, visits_file, level=level)
    columns = ["district", *raw]
    app_id = apply(home, people.merchant, columns=columns, raw_columns=raw)
    policy = home.policy.changed("applications", overdue_action="deemed_approved")
    assert _sweep_late(home, policy, app_id) == ("escalated", False, False)


def test_revoked_grant_refuses_jobs_and_its_workspace_is_deleted(home, people, grant_id):
    with home.store.transaction() as s:
        job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id,
                             "SELECT district, count(*) AS n FROM visits GROUP BY 1", "counts").id
    home.run_job(job_id)
    workspace = home.data.local("workspaces") / str(grant_id)
    assert any(workspace.rglob("*.parquet"))
    with home.store.transaction() as s:
        applications.revoke(s, people.admin, home.policy, grant_id, "违规使用", home.data)
    assert not workspace.exists()
    with refused(home, "is revoked", "forbidden"), home.store.transaction() as s:
        jobs.submit(s, people.merchant, home.policy, home.data, grant_id, "SELECT 1 AS x", "y")


def test_expired_grant_refuses_jobs_at_once_and_sweep_ends_it(home, people, grant_id):
    with home.store.transaction() as s:
        grant = applications.get_grant(s, people.admin, grant_id)
        grant.expires_at = dt.datetime(2020, 1, 1)
    with refused(home, "expired on 2020-01-01", "forbidden"), home.store.transaction() as s:
        jobs.submit(s, people.merchant, home.policy, home.data, grant_id, "SELECT 1 AS x", "y")
    with home.store.transaction() as s:
        assert applications.expire_grants(s, home.data) == [grant_id]
    with home.store.read() as s:
        status = s.scalar(select(Application.status))
        assert status == "approved"
        assert applications.get_grant(s, people.admin, grant_id).status == "expired"


def _request(columns, scenario="门诊分析", months=12):
    return applications.Request(scenario, "按区统计门诊量，补充说明", "卫生规划", "统计表", months,
                                False, [{"dataset": "visits", "columns": columns}])


def test_a_returned_application_is_amended_and_reviewed_again_from_a_new_deadline(
        home, people, registered):
    app_id = apply(home, people.merchant)
    first_level(home, app_id)
    with refused(home, "comment must not be empty"), home.store.transaction() as s:
        applications.decide(s, people.reviewer, home.policy, app_id, "return", "")
    with home.store.transaction() as s:
        app = applications.decide(s, people.reviewer, home.policy, app_id, "return",
                                  "请说明为何需要年龄字段")
        assert app.status == "returned" and app.grant is None
        amend_by = app.deadline
    assert amend_by == add_working_days(dt.date.today(), home.policy.amend_working_days,
                                        home.policy)[0]
    with refused(home, "returned", "conflict"), home.store.transaction() as s:
        applications.decide(s, people.reviewer, home.policy, app_id, True, "ok")
    with refused(home, f"no application {app_id}", "not_found"), home.store.transaction() as s:
        applications.amend(s, people.merchant_b, home.policy, app_id, _request(["district"]))
    with refused(home, "has no column 'salary'"), home.store.transaction() as s:
        applications.amend(s, people.merchant, home.policy, app_id, _request(["salary"]))
    with home.store.transaction() as s:
        app = applications.amend(s, people.merchant, home.policy, app_id,
                                 _request(["district", "fee"]))
        assert (app.status, app.amendments) == ("submitted", 1)
        assert app.as_dict()["items"][0]["columns"] == ["district", "fee"]
        assert app.deadline == add_working_days(dt.date.today(), home.policy.review_working_days,
                                                home.policy)[0]
    first_level(home, app_id, attach=False)  # the amended list is checked afresh
    with home.store.transaction() as s:
        grant = applications.decide(s, people.reviewer, home.policy, app_id, "approve", "同意",
                                    PASS).grant
        assert grant.as_dict()["datasets"][0]["columns"] == ["district", "fee"]
    with home.store.read() as s:
        actions = [e.action for e in s.scalars(select(LedgerEvent).where(
            LedgerEvent.subject == f"application:{app_id}").order_by(LedgerEvent.seq))]
    assert actions == ["application.submitted", "application.attached", "application.attached",
                       "application.checked", "application.returned", "application.amended",
                       "application.checked", "application.approved"]


def test_merchants_withdraw_undecided_applications_and_may_apply_again(home, people, registered):
    app_id = apply(home, people.merchant)
    with refused(home, "needs the role", "forbidden"), home.store.transaction() as s:
        applications.withdraw(s, people.reviewer, app_id)
    with home.store.transaction() as s:
        assert applications.withdraw(s, people.merchant, app_id).status == "withdrawn"
    with refused(home, "withdrawn", "conflict"), home.store.transaction() as s:
        applications.decide(s, people.reviewer, home.policy, app_id, True, "ok")
    with refused(home, "withdrawn", "conflict"), home.store.transaction() as s:
        applications.withdraw(s, people.merchant, app_id)
    apply(home, people.merchant)  # the scenario is free again


def test_a_returned_application_not_amended_in_time_is_withdrawn_by_the_sweep(
        home, people, registered):
    app_id = apply(home, people.merchant)
    with home.store.transaction() as s:
        applications.decide(s, people.reviewer, home.policy, app_id, "return", "补充材料")
    with home.store.transaction() as s:
        assert applications.sweep_overdue(s, home.policy)["withdrawn"] == []
    later = dt.datetime.now() + dt.timedelta(days=30)
    with home.store.transaction() as s:
        assert applications.sweep_overdue(s, home.policy, now=later)["withdrawn"] == [app_id]
    with home.store.read() as s:
        assert s.get(Application, app_id).status == "withdrawn"


def test_the_application_shows_each_columns_entity_and_the_level(home, people, registered):
    app_id = apply(home, people.merchant, columns=["district", "patient_name", "fee"])
    with home.store.read() as s:
        item = applications.get(s, people.reviewer, app_id).as_dict()["items"][0]
    assert item["level"] == "L3"
    assert item["entities"] == {"district": None, "patient_name": "PERSON", "fee": None}


def test_jobs_wait_for_the_merchant_to_accept_the_operation_agreement(home, people, registered):
    import hashlib
    import json

    app = approve(home, people.reviewer, apply(home, people.merchant), accept=False)
    grant_id = app.grant.id
    with home.store.read() as s:
        grant = applications.get_grant(s, people.merchant, grant_id)
        text, sha = grant.agreement, grant.agreement_sha256
    assert "粤数科技" in text and "门诊分析" in text and "visits" in text
    assert sha == hashlib.sha256(text.encode("utf-8")).hexdigest()
    with refused(home, "accept the operation agreement of grant", "forbidden"), \
            home.store.transaction() as s:
        jobs.submit(s, people.merchant, home.policy, home.data, grant_id, "SELECT 1 AS x", "x")
    with refused(home, f"no grant {grant_id}", "not_found"), home.store.transaction() as s:
        applications.accept_agreement(s, people.merchant_b, grant_id)
    with refused(home, "needs the role merchant", "forbidden"), home.store.transaction() as s:
        applications.accept_agreement(s, people.reviewer, grant_id)
    with home.store.transaction() as s:
        applications.accept_agreement(s, people.merchant, grant_id)
    with refused(home, "no agreement waiting", "conflict"), home.store.transaction() as s:
        applications.accept_agreement(s, people.merchant, grant_id)
    with home.store.transaction() as s:
        assert jobs.submit(s, people.merchant, home.policy, home.data, grant_id,
                           "SELECT 1 AS x", "x").status == "queued"
    with home.store.read() as s:
        logged = s.scalars(select(LedgerEvent.payload).where(
            LedgerEvent.action == "grant.agreement_accepted")).one()
    assert json.loads(logged) == {"sha256": sha}
