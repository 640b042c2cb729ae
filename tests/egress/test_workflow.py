"""The review workflow: blind votes, self- and same-organization review, exceptions and
overrides, return and resubmit (votes reset), withdraw, deadlines; differencing; mitigation;
ACRO's results.json in the bundle."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
import pytest
from sqlalchemy import update

from catalog import applications
from egress import requesting, review
from egress.models import EgressRequest
from lineage import LedgerEvent
from tests.conftest import apply, approve, register
from tests.egress.test_egress import AGGREGATE, ask, job, verdicts, vote
from tests.helpers import read_stored, refused

SMALL = "SELECT district, department, count(*) AS n FROM visits GROUP BY ROLLUP (district, department)"


def show(home, actor, request_id):
    with home.store.read() as s:
        return requesting.view(requesting.get(s, actor, request_id), actor)


def resubmit(home, people, request_id, **options):
    with home.store.transaction() as s:
        return requesting.resubmit(s, people.merchant, home.policy, home.data,
                                   home.pseudonym_secret, request_id,
                                   requesting.Change(**options)).as_dict()


def test_votes_stay_blind_until_all_are_in(home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id))
    vote(home, people.reviewer, req["id"], private_comment="内部备注")
    other = show(home, people.reviewer2, req["id"])
    assert other["reviews"] is None and other["approvals"] is None and other["votes_in"] == 1
    mine = show(home, people.reviewer, req["id"])
    assert mine["reviews"] is None and mine["my_vote"]["decision"] == "approve"
    assert show(home, people.merchant, req["id"])["reviews"] is None
    vote(home, people.reviewer2, req["id"])
    done = show(home, people.reviewer2, req["id"])
    assert done["status"] == "released" and len(done["reviews"]) == 2
    merchant = show(home, people.merchant, req["id"])
    assert "private_comment" not in merchant["reviews"][0]
    assert "reviewer_id" not in merchant["reviews"][0]
    assert show(home, people.admin, req["id"])["reviews"][0]["private_comment"] == "内部备注"


def test_nobody_reviews_a_request_they_wrote(home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id))
    with home.store.transaction() as s:  # the author later became a reviewer elsewhere
        s.execute(update(EgressRequest).where(EgressRequest.id == req["id"])
                  .values(requested_by=people.reviewer.id))
    with refused(home, "own request", "forbidden"):
        vote(home, people.reviewer, req["id"])


def test_approval_needs_every_review_point(home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id))
    partial = {"purpose_scope": {"answer": "yes", "comment": "ok"}}
    with refused(home, "answer every review point", "forbidden"):
        vote(home, people.reviewer, req["id"], checklist=partial)
    unmet = {p: {"answer": "yes", "comment": "ok"} for p in review.REVIEW_POINTS}
    unmet["other_risks"] = {"answer": "no", "comment": "风险未排除"}
    with refused(home, "answered 'no'", "forbidden"):
        vote(home, people.reviewer, req["id"], checklist=unmet)
    assert show(home, people.admin, req["id"])["votes_in"] == 0


def test_a_failing_check_needs_the_merchants_justification_and_each_approvers_override(
        home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id, SMALL, "small"))
    assert verdicts(req)["disclosure"] == "fail"
    with refused(home, "asked for no exception", "forbidden"):
        vote(home, people.reviewer, req["id"], overrides={"disclosure": "可接受"})
    resubmit(home, people, req["id"], exceptions={"disclosure": "小格为公开统计口径"})
    with refused(home, "override it explicitly", "forbidden"):
        vote(home, people.reviewer, req["id"])
    with refused(home, "only failing checks can be overridden", "forbidden"):
        vote(home, people.reviewer, req["id"], overrides={"disclosure": "可接受",
                                                           "scope": "多余"})
    vote(home, people.reviewer, req["id"], overrides={"disclosure": "已核对小格"})
    with refused(home, "override it explicitly", "forbidden"):
        vote(home, people.reviewer2, req["id"])
    done = vote(home, people.reviewer2, req["id"], overrides={"disclosure": "同意例外"})
    assert done["status"] == "released"
    with home.store.read() as s:
        bundle = home.root / requesting.list_releases(s, people.merchant)[0].path
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert all(a["overrides"] == {"disclosure": a["overrides"]["disclosure"]}
               for a in manifest["approvals"])
    assert manifest["exceptions"] == {"disclosure": "小格为公开统计口径"}
    with home.store.read() as s:
        votes = [json.loads(p) for p, in s.query(LedgerEvent.payload).filter(
            LedgerEvent.action == "egress.review.approve")]
    assert [v["overrides"] for v in votes] == [["disclosure"], ["disclosure"]]


def test_return_resubmit_resets_votes_and_withdraw_is_final(home, people, grant_id):
    first_job = job(home, people, grant_id)
    req = ask(home, people, first_job)
    vote(home, people.reviewer, req["id"])
    returned = vote(home, people.reviewer2, req["id"], approve="return",
                    comment="请按科室细分后重新提交")
    assert returned["status"] == "returned"
    assert show(home, people.merchant, req["id"])["reviews"][-1]["comment"] == \
        "请按科室细分后重新提交"
    with refused(home, "not awaiting review", "conflict"):
        vote(home, people.reviewer, req["id"])
    new_job = job(home, people, grant_id,
                  "SELECT department, count(*) AS visits FROM visits GROUP BY 1 "
                  "HAVING count(*) >= 10", "by_department")
    again = resubmit(home, people, req["id"], job_id=new_job, comment="已细分")
    assert again["status"] == "submitted" and again["round"] == 2 and again["job_id"] == new_job
    assert again["votes_in"] == 0  # the first round's approval no longer counts
    vote(home, people.reviewer, req["id"])  # the same reviewer votes again in the new round
    with home.store.transaction() as s:
        requesting.withdraw(s, people.merchant, home.policy, req["id"], "不再需要")
    assert show(home, people.merchant, req["id"])["status"] == "withdrawn"
    assert show(home, people.merchant, req["id"])["withdrawal_reason"] == "不再需要"
    # The five-year ledger counts the reviewers' and the merchant's words; the tables keep them.
    with home.store.read() as s:
        logged = " ".join(p for p, in s.query(LedgerEvent.payload).filter(
            LedgerEvent.subject == f"egress:{req['id']}"))
    assert "请按科室细分" not in logged and "不再需要" not in logged and "已细分" not in logged
    for attempt in (lambda: vote(home, people.reviewer2, req["id"]),
                    lambda: resubmit(home, people, req["id"])):
        with refused(home, "withdrawn", "conflict"):
            attempt()
    with home.store.read() as s:
        actions = [e.action for e in s.query(LedgerEvent).filter(
            LedgerEvent.subject == f"egress:{req['id']}").order_by(LedgerEvent.seq)]
    assert actions[:3] == ["egress.requested", "egress.submitted", "egress.review.approve"]
    assert {"egress.returned", "egress.updated", "egress.withdrawn"} <= set(actions)


def test_a_draft_is_not_reviewed_until_submitted(home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id), draft=True)
    assert req["status"] == "draft" and req["deadline"] is None
    with home.store.read() as s:
        assert requesting.list_requests(s, people.reviewer) == []
    assert resubmit(home, people, req["id"])["status"] == "submitted"


def test_overdue_reviews_escalate_and_are_never_approved(home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id))
    deadline = dt.date.fromisoformat(req["deadline"])
    # 10 working days: two calendar weeks from a weekday, 12 or 13 days from a weekend day
    # (the clock is UTC's), more over holidays.
    assert 12 <= (deadline - dt.datetime.now(dt.UTC).date()).days <= 30
    with home.store.transaction() as s:
        assert review.sweep(s, home.policy, dt.datetime(2099, 1, 1)) == [req["id"]]
    after = show(home, people.admin, req["id"])
    assert after["escalated"] and after["status"] == "submitted"
    with home.store.transaction() as s:
        assert review.sweep(s, home.policy, dt.datetime(2099, 1, 1)) == []


def test_differencing_catches_two_releases_that_isolate_one_person(home, people, grant_id):
    first = ask(home, people, job(home, people, grant_id))
    vote(home, people.reviewer, first["id"])
    assert vote(home, people.reviewer2, first["id"])["status"] == "released"
    # The same counts without the single most expensive visit: the difference is that person.
    attack = ("SELECT district, count(*) AS visits FROM visits WHERE fee < "
              "(SELECT max(fee) FROM visits) GROUP BY 1 HAVING count(*) >= 10")
    second = ask(home, people, job(home, people, grant_id, attack, "nearly_all"))
    check = next(c for c in second["checks"] if c["name"] == "differencing")
    assert check["verdict"] == "fail", check
    difference = check["details"]["differences"][0]
    assert difference["compared_with"] == f"egress:{first['id']}"
    # The merchant reads which cell, never the counts (a draft would be an oracle).
    assert set(difference) == {"compared_with", "cell", "keys"}
    assert " vs " not in check["message"]
    # renaming the key column does not hide it: keys are matched by column lineage
    renamed = ask(home, people, job(home, people, grant_id, attack.replace(
        "SELECT district,", "SELECT district AS area,"), "renamed"))
    assert verdicts(renamed)["differencing"] == "fail"


def test_suppression_hides_small_cells_and_what_margins_would_reveal(home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id, SMALL, "small"), mitigation="suppress")
    check = next(c for c in req["checks"] if c["name"] == "disclosure")
    assert check["verdict"] == "review" and check["details"]["mitigation"]["suppressed"] > 0
    with home.store.read() as s:
        mitigated = home.root / s.get(EgressRequest, req["id"]).mitigated_path
    rows = read_stored(home, mitigated).to_pylist()
    for row in rows:  # every shown cell has at least 10 contributors
        assert row["n"] is None or row["n"] >= 10
    # no subtotal relation with exactly one hidden member
    by_district = {}
    for row in rows:
        if row["district"] is not None:
            by_district.setdefault(row["district"], []).append(row)
    for district, members in by_district.items():
        hidden = sum(r["n"] is None for r in members)
        assert hidden != 1, (district, members)
    top = [r for r in rows if r["district"] is None]
    assert len(top) == 1
    districts = [r for r in rows if r["district"] is not None and r["department"] is None]
    assert sum(r["n"] is None for r in districts + top) != 1


def test_the_bundle_carries_acros_results(home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id))
    vote(home, people.reviewer, req["id"])
    vote(home, people.reviewer2, req["id"])
    with home.store.read() as s:
        bundle = home.root / requesting.list_releases(s, people.merchant)[0].path
        products = requesting.products(s, people.merchant)
    results = json.loads((bundle / "results.json").read_text())
    output = results["results"]["output_0"]
    assert {"uid", "status", "type", "properties", "files", "outcome", "command", "summary",
            "timestamp", "comments", "exception"} <= set(output)
    assert output["status"] == "pass" and output["type"] == "table"
    assert set(output["outcome"]["visits"].values()) == {"ok"}
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert "results.json" in {f["name"] for f in manifest["files"]}
    assert products[0]["sources"][0]["registration_no"].startswith("DR-")


def test_row_level_output_of_sensitive_data_needs_k_anonymity(home, people, visits_file):
    from catalog import datasets

    register(home, people.provider, visits_file)
    with home.store.transaction() as s:
        datasets.classify(s, people.provider, "visits",
                          quasi_identifiers=["district", "age"])
    app_id = apply(home, people.merchant)
    grant = approve(home, people.reviewer, app_id, "ok").grant.id
    req = ask(home, people, job(home, people, grant, "SELECT district, age, fee FROM visits"))
    check = next(c for c in req["checks"] if c["name"] == "raw_exposure")
    assert check["verdict"] == "fail" and check["details"]["k_reached"] is False, check
    assert "k" not in check["details"]  # the smallest class's size is an oracle
    assert check["details"]["quasi_identifiers"] == ["age", "district"]
    coarse = ask(home, people, job(home, people, grant, "SELECT district FROM visits", "d"))
    assert verdicts(coarse)["raw_exposure"] == "review"  # k >= 10, still reviewed as rows


@pytest.mark.parametrize("sql", [AGGREGATE])
def test_an_approved_release_is_logged_and_downloads_are_logged(home, people, grant_id, sql):
    req = ask(home, people, job(home, people, grant_id, sql))
    vote(home, people.reviewer, req["id"])
    vote(home, people.reviewer2, req["id"])
    with home.store.read() as s:
        release_id = requesting.list_releases(s, people.merchant)[0].id
    with home.store.transaction() as s:
        requesting.download(s, people.merchant, home.data, release_id)
    with home.store.read() as s:
        actions = {e.action for e in s.query(LedgerEvent)}
    assert {"egress.approved", "egress.released", "release.created",
            "release.downloaded"} <= actions


@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_an_ended_grant_withdraws_its_open_requests_and_deletes_their_findings(
        home, people, grant_id, ending):
    req = ask(home, people, job(home, people, grant_id))
    vote(home, people.reviewer, req["id"])  # one of two approvals
    findings = f"egress/{req['id']}"
    assert home.data.local(findings).exists()
    with home.store.transaction() as s:
        if ending == "revoked":
            applications.revoke(s, people.admin, home.policy, grant_id, "违反协议", home.data)
        else:
            applications.expire_grants(s, home.data, dt.datetime(2100, 1, 1))
    assert show(home, people.admin, req["id"])["status"] == "withdrawn"
    assert not home.data.local(findings).exists()
    # The second approval is refused with a reason, not a crash on the deleted workspace.
    with refused(home, "withdrawn", "conflict"):
        vote(home, people.reviewer2, req["id"])
    with home.store.read() as s:
        payload = s.query(LedgerEvent).filter(LedgerEvent.subject == f"egress:{req['id']}",
                                              LedgerEvent.action == "egress.withdrawn").one().payload
    assert json.loads(payload)["reason"] == f"grant {ending}"


def test_drafts_and_other_organizations_releases_are_compared(home, people, grant_id):
    attack = ("SELECT district, count(*) AS visits FROM visits WHERE fee < "
              "(SELECT max(fee) FROM visits) GROUP BY 1 HAVING count(*) >= 10")
    draft = ask(home, people, job(home, people, grant_id), draft=True)
    second = ask(home, people, job(home, people, grant_id, attack, "nearly_all"))
    found = next(c for c in second["checks"] if c["name"] == "differencing")
    assert found["verdict"] == "fail"
    assert found["details"]["differences"][0]["compared_with"] == f"egress:{draft['id']}"


def test_differencing_matches_keys_after_normalisation():
    from egress.differencing import normal
    assert normal(" 01") == normal("1.0") == normal("１") == "1"
    assert normal("Tianhe ") == normal("ＴＩＡＮＨＥ") == "tianhe"
    assert normal(None) is None and normal("1.5") == "1.5"


def _oldest(visits_file):
    return max(pq.read_table(visits_file, columns=["age"]).column("age").to_pylist())


def test_two_sums_of_one_cell_that_differ_by_a_few_rows_fail(home, people, grant_id, visits_file):
    # sum(x) beside the same sum without one person's rows tells that person's x.
    masked = f"sum(CASE WHEN age <> {_oldest(visits_file)} THEN fee ELSE 0 END)"
    req = ask(home, people, job(home, people, grant_id, f"SELECT district, sum(fee) AS a, "
                                f"{masked} AS b FROM visits GROUP BY 1 HAVING count(*) >= 10"))
    check = next(c for c in req["checks"] if c["name"] == "differencing")
    assert check["verdict"] == "fail"
    assert check["details"]["differences"][0]["compared_with"] == "this output"


def test_sums_of_unrelated_columns_are_not_compared(home, people, grant_id, visits_file):
    # The fees and the ages but the oldest's: their nonzero rows differ by a few, yet
    # subtracting one from the other tells nothing.
    masked = f"sum(CASE WHEN age <> {_oldest(visits_file)} THEN age ELSE 0 END)"
    req = ask(home, people, job(home, people, grant_id, f"SELECT district, sum(fee) AS a, "
                                f"{masked} AS b FROM visits GROUP BY 1 HAVING count(*) >= 10"))
    check = next(c for c in req["checks"] if c["name"] == "differencing")
    assert check["verdict"] == "pass" and check["details"]["differences"] == [], check


def test_a_sum_released_again_without_a_few_rows_fails(home, people, grant_id, visits_file):
    first = ask(home, people, job(home, people, grant_id, "SELECT district, sum(fee) AS s FROM "
                                  "visits GROUP BY 1 HAVING count(*) >= 10"), draft=True)
    masked = f"sum(CASE WHEN age <> {_oldest(visits_file)} THEN fee ELSE 0 END)"
    second = ask(home, people, job(home, people, grant_id, f"SELECT district, {masked} AS s "
                                   "FROM visits GROUP BY 1 HAVING count(*) >= 10", "masked"))
    check = next(c for c in second["checks"] if c["name"] == "differencing")
    assert check["verdict"] == "fail"
    assert {d["compared_with"] for d in check["details"]["differences"]} == {
        f"egress:{first['id']}"}
    # The same sums over the same rows are no difference: asked again, only the masked
    # request (which the merchant's own checks saw) differs from it.
    again = ask(home, people, job(home, people, grant_id, "SELECT district, sum(fee) AS total "
                                  "FROM visits GROUP BY 1 HAVING count(*) >= 10", "again"))
    check = next(c for c in again["checks"] if c["name"] == "differencing")
    assert {d["compared_with"] for d in check["details"]["differences"]} == {
        f"egress:{second['id']}"}


def test_a_cell_suppressed_in_a_release_cannot_be_completed_by_a_later_one(home, people,
                                                                            grant_id, visits_file):
    """Secondary suppression across releases: the first release hides a district's small
    paediatrics cell and, to protect it from its margin, a second cell of the district; a
    later request showing only that second cell lets the small one be recovered as margin
    minus the cells the two releases show together, though neither release alone does."""
    import duckdb

    kind = ("CASE WHEN department = '儿科' THEN 'a' WHEN department IN ('内科', '口腔科', "
            "'外科') THEN 'b' ELSE 'c' END")
    first = ask(home, people, job(home, people, grant_id, f"SELECT district, {kind} AS kind, "
                                  f"count(*) AS n FROM visits GROUP BY ROLLUP (district, {kind})",
                                  "by_kind"), mitigation="suppress")
    vote(home, people.reviewer, first["id"])
    assert vote(home, people.reviewer2, first["id"])["status"] == "released"
    counts = dict(((d, k), n) for d, k, n in duckdb.sql(
        f"SELECT district, {kind}, count(*) FROM '{visits_file}' GROUP BY 1, 2").fetchall())
    with home.store.read() as s:
        released = read_stored(home, home.root / s.get(EgressRequest, first["id"]).mitigated_path)
    hidden = {(r["district"], r["kind"]) for r in released.to_pylist()
              if r["kind"] is not None and r["n"] is None}
    # a district with one small cell, hidden with one large one, and one large cell shown
    district, second = next((d, k) for d, k in sorted(hidden) if counts[(d, k)] >= 10 and
                            counts[(d, "a")] < 10 and {(d, "b"), (d, "c")} - hidden)

    def later(where: str, name: str) -> dict:
        req = ask(home, people, job(home, people, grant_id, f"SELECT district, {kind} AS kind, "
                                    f"count(*) AS n FROM visits WHERE {where} GROUP BY 1, 2",
                                    name))
        return next(c for c in req["checks"] if c["name"] == "differencing")

    check = later(f"district = '{district}' AND {kind} = '{second}'", "second_cell")
    assert check["verdict"] == "fail", check
    (found,) = check["details"]["recoverable"]
    assert found == {"cell": {"visits.district": district, "visits.department": "a"},
                     "suppressed_in": f"egress:{first['id']}",
                     "completed_by": sorted({"this output", f"egress:{first['id']}"})}
    assert check["details"]["differences"] == []  # no two outputs alone differ by a few rows
    assert "suppressed" in check["message"]
    # A district whose cells were all shown has nothing to complete.
    shown = next(d for (d, k), n in sorted(counts.items()) if k == "a" and n >= 10 and
                 not {(d, "a"), (d, "b"), (d, "c")} & hidden)
    check = later(f"district = '{shown}' AND {kind} = 'b'", "nothing_hidden")
    assert check["details"]["recoverable"] == [] and check["verdict"] == "pass", check
