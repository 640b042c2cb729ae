"""Two-level review of applications: the providing departments' checks (核查), the merchant's
materials (申请函, 承诺书), the reviewer's assessment (审核)."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from actions import Context
from actions import applications as application_actions
from catalog import applications, reviews
from catalog.errors import InvalidInput
from catalog.models import Application
from lineage.ledger import LedgerEvent
from tests.conftest import PASS, PDF, apply, register
from tests.helpers import refused, set_policy

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture
def make_ctx(home):
    return lambda actor: Context.of(home, actor)


@pytest.fixture
def app_id(home, people, visits_file):
    register(home, people.provider, visits_file)
    return apply(home, people.merchant)


def _app(s, app_id):
    return s.get(Application, app_id)


def attach(home, merchant, app_id, kind="letter", name="申请函.pdf", body=PDF):
    with home.store.transaction() as s:
        return reviews.attach(s, merchant, home.policy, home.data, _app(s, app_id), kind, name,
                              io.BytesIO(body)).as_dict()


def check(home, actor, app_id, verdict="agree", rating=PASS, comment="", dataset="visits"):
    with home.store.transaction() as s:
        return reviews.check(s, actor, home.policy, _app(s, app_id), dataset, verdict, rating,
                             comment).as_dict()


def decide(home, reviewer, app_id, decision="approve", comment="同意", rating=PASS):
    with home.store.transaction() as s:
        return applications.decide(s, reviewer, home.policy, app_id, decision, comment,
                                   rating).as_dict()


def test_the_reviewer_approves_only_after_the_department_agreed_and_the_materials_are_filed(
        home, people, app_id):
    with home.store.read() as s:
        (part,) = _app(s, app_id).as_dict()["checks"]
    assert part["verdict"] == "pending" and part["dataset"] == "visits"
    with refused(home, "'visits' has not checked its part yet", "conflict"):
        decide(home, people.reviewer, app_id)
    with refused(home, "only the providing department of 'visits'", "forbidden"):
        check(home, people.provider_b, app_id)
    with refused(home, "needs the role", "forbidden"):
        check(home, people.reviewer, app_id)
    with refused(home, "cannot agree"):
        check(home, people.provider, app_id, rating={**PASS, "security": "fail"}, comment="x")
    with refused(home, "comment must not be empty"):
        check(home, people.provider, app_id, rating={**PASS, "compliance": "concern"})
    done = check(home, people.provider, app_id, rating={**PASS, "compliance": "concern"},
                 comment="用途须限于卫生规划")
    assert done["verdict"] == "agreed" and done["checked_by"] == people.provider.id
    with refused(home, "lacks its letter attachment", "conflict"):
        decide(home, people.reviewer, app_id)
    attach(home, people.merchant, app_id)
    with refused(home, "lacks its commitment attachment", "conflict"):
        decide(home, people.reviewer, app_id)
    attach(home, people.merchant, app_id, "commitment", "承诺书.pdf")
    with refused(home, "must rate security"):
        decide(home, people.reviewer, app_id, rating={"reasonableness": "pass",
                                                      "compliance": "pass"})
    with refused(home, "rates a point fail cannot approve"):
        decide(home, people.reviewer, app_id, rating={**PASS, "security": "fail"})
    with refused(home, "despite the concern"):
        decide(home, people.reviewer, app_id, comment="", rating={**PASS, "security": "concern"})
    approved = decide(home, people.reviewer, app_id)
    assert approved["status"] == "approved" and approved["assessment"] == PASS
    with home.store.read() as s:
        events = {e.action: json.loads(e.payload) for e in s.scalars(select(LedgerEvent).where(
            LedgerEvent.subject == f"application:{app_id}"))}
    assert events["application.approved"]["assessment"] == PASS
    assert events["application.checked"] == {"dataset": "visits", "verdict": "agreed",
                                             "assessment": {**PASS, "compliance": "concern"},
                                             "comment_chars": 9}
    # The ledger keeps the file's hash and size, never its name or contents.
    attached = events["application.attached"]
    assert set(attached) == {"attachment_id", "kind", "bytes", "sha256", "replaced"}


def test_a_departments_refusal_leaves_rejection_or_return(home, people, app_id):
    attach(home, people.merchant, app_id)
    attach(home, people.merchant, app_id, "commitment", "承诺书.pdf")
    with refused(home, "comment must not be empty"):
        check(home, people.provider, app_id, "refuse", {**PASS, "security": "fail"})
    check(home, people.provider, app_id, "refuse", {**PASS, "security": "fail"}, "含敏感字段")
    with refused(home, "refused its part", "conflict"):
        decide(home, people.reviewer, app_id)
    rejected = decide(home, people.reviewer, app_id, "reject", "数源部门不同意",
                      {**PASS, "security": "fail"})
    assert rejected["status"] == "rejected" and rejected["grant_id"] is None
    assert rejected["checks"][0]["comment"] == "含敏感字段"
    with refused(home, "is rejected: only one in review is checked", "conflict"):
        check(home, people.provider, app_id)


def test_an_amended_list_is_checked_afresh_and_materials_stay(home, people, app_id):
    attach(home, people.merchant, app_id)
    check(home, people.provider, app_id)
    decide(home, people.reviewer, app_id, "return", "请缩小字段范围", None)
    with home.store.transaction() as s:
        app = applications.amend(s, people.merchant, home.policy, app_id, applications.Request(
            "门诊分析", "按区统计", "卫生规划", "统计表", 12, False,
            [{"dataset": "visits", "columns": ["district", "fee"]}]))
        assert [c.verdict for c in app.checks] == ["pending"]
        assert [a.kind for a in app.attachments] == ["letter"]


def test_attachments_must_be_what_their_names_say_within_the_policy(home, people, app_id):
    with refused(home, "must be one of .pdf, .ofd, .png, .jpg, .jpeg, not '.exe'"):
        attach(home, people.merchant, app_id, name="letter.exe")
    with refused(home, "not a .pdf file"):
        attach(home, people.merchant, app_id, name="letter.pdf", body=PNG)
    with refused(home, "is empty"):
        attach(home, people.merchant, app_id, body=b"")
    with refused(home, "an attachment is one of letter, commitment, other"):
        attach(home, people.merchant, app_id, kind="invoice")
    with refused(home, "control or invisible character"):
        attach(home, people.merchant, app_id, name="a\u202egpj.pdf")
    with refused(home, f"no application {app_id}", "not_found"), home.store.transaction() as s:
        applications.get(s, people.merchant_b, app_id)
    set_policy(home, attachment_max_bytes="64")
    with refused(home, "exceeds the policy's 64 bytes"):
        attach(home, people.merchant, app_id, body=PDF + b"x" * 64)
    # A path in the name keeps only its last part.
    made = attach(home, people.merchant, app_id, name="../../etc/申请函.pdf")
    assert made["filename"] == "申请函.pdf"


def test_a_second_letter_replaces_the_first_and_files_are_checked_on_reading(
        home, people, app_id, make_ctx):
    first = attach(home, people.merchant, app_id)
    second = attach(home, people.merchant, app_id, body=PDF + b"% v2\n")
    other = attach(home, people.merchant, app_id, "other", "附件.png", PNG)
    with home.store.read() as s:
        app = _app(s, app_id)
        assert [(a.id, a.kind) for a in app.attachments] == [(second["id"], "letter"),
                                                             (other["id"], "other")]
        stored = home.data.local(app.attachments[0].path)
    assert not home.data.local(f"applications/{app_id}/{first['id']}.pdf").exists()
    for actor in (people.merchant, people.reviewer, people.provider):
        path, described = application_actions.attachment_file(make_ctx(actor), app_id,
                                                               second["id"])
        assert path.read_bytes() == PDF + b"% v2\n" and described["sha256"] == second["sha256"]
    with pytest.raises(Exception, match=f"no application {app_id}"):
        application_actions.attachment_file(make_ctx(people.provider_b), app_id, second["id"])
    stored.write_bytes(b"%PDF- altered")
    with pytest.raises(Exception, match="no longer matches its recorded SHA-256"):
        application_actions.attachment_file(make_ctx(people.reviewer), app_id, second["id"])
    application_actions.detach(make_ctx(people.merchant), app_id, other["id"])
    with home.store.read() as s:
        assert [a.kind for a in _app(s, app_id).attachments] == ["letter"]


def test_after_the_decision_the_materials_are_fixed(home, people, app_id):
    attach(home, people.merchant, app_id)
    decide(home, people.reviewer, app_id, "reject", "不符合", None)
    with refused(home, "materials can no longer change", "conflict"):
        attach(home, people.merchant, app_id, "commitment", "承诺书.pdf")


def test_providers_see_the_applications_of_their_datasets_and_only_their_parts(
        home, people, app_id, make_ctx, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    other = tmp_path / "beds.parquet"
    pq.write_table(pa.table({"district": ["天河", "越秀"] * 10, "beds": list(range(20))}), other)
    register(home, people.provider_b, other, name="beds")
    both = apply(home, people.merchant, scenario="床位与门诊", columns=["district", "fee"])
    with home.store.transaction() as s:
        app = applications.submit(s, people.merchant, home.policy, applications.Request(
            "床位", "按区", "规划", "统计表", 12, False,
            [{"dataset": "visits", "columns": ["district"]},
             {"dataset": "beds", "columns": ["district", "beds"]}]))
        two = app.id
    seen = application_actions.show(make_ctx(people.provider_b), two)
    assert [i["dataset"] for i in seen["items"]] == ["beds"]
    assert [c["dataset"] for c in seen["checks"]] == ["beds"]
    listed = {a["id"] for a in application_actions.search(make_ctx(people.provider_b))}
    assert listed == {two}
    assert {a["id"] for a in application_actions.to_check(make_ctx(people.provider))} == {
        app_id, both, two}
    with pytest.raises(Exception, match=f"no application {app_id}"):
        application_actions.show(make_ctx(people.provider_b), app_id)
    check(home, people.provider_b, two, dataset="beds")
    assert {a["id"] for a in application_actions.to_check(make_ctx(people.provider_b))} == set()
    reasons = application_actions.show(make_ctx(people.reviewer), two)["missing"]
    assert {"reason": "check_pending", "subject": "visits"} in reasons
    assert {"reason": "attachment_missing", "subject": "commitment"} in reasons


def test_a_policy_without_the_first_level_lets_the_reviewer_decide_alone(home, people,
                                                                          visits_file):
    set_policy(home, provider_check="false", required_attachments="[]")
    register(home, people.provider, visits_file)
    app_id = apply(home, people.merchant)
    assert decide(home, people.reviewer, app_id)["checks"] == []


@given(st.one_of(st.none(), st.text(max_size=5), st.dictionaries(
    st.sampled_from([*reviews.ASSESSMENT_POINTS, "x", ""]),
    st.one_of(st.sampled_from([*reviews.RATINGS, "PASS", ""]), st.integers(), st.none()),
    max_size=5)))
def test_an_assessment_is_complete_and_rated_or_refused_clearly(value):
    try:
        rated = reviews.assessment(value, required=True)
    except InvalidInput as exc:
        assert "assessment" in str(exc) or "rate" in str(exc)
        return
    assert list(rated) == list(reviews.ASSESSMENT_POINTS)
    assert set(rated.values()) <= set(reviews.RATINGS)
