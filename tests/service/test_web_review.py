"""The vote form offers what the server allows and keeps the page when the rules refuse a vote."""

from __future__ import annotations

import pytest

from service.api.app import create_app
from tests.egress.test_egress import ask, job
from tests.egress.test_workflow import resubmit
from tests.service.web_helpers import console, csrf_of, set_passwords

SMALL = "SELECT district, department, count(*) AS n FROM visits GROUP BY ROLLUP (district, department)"


@pytest.fixture
def app(home, people):
    set_passwords(home, *people.tokens)
    return create_app(home, workers=0)


def test_a_failed_check_without_the_merchants_justification_offers_no_override(
        app, home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id, SMALL, "small"))
    page = console(app, "reviewer").get(f"/egress/{req['id']}").text
    assert 'name="override:disclosure"' not in page and 'id="unexcused"' in page
    assert 'value="approve" disabled' in page
    resubmit(home, people, req["id"], exceptions={"disclosure": "小格为公开统计口径"})
    page = console(app, "reviewer").get(f"/egress/{req['id']}").text
    assert 'name="override:disclosure"' in page and 'id="unexcused"' not in page
    assert 'name="override:scope"' not in page  # scope passed: nothing to override


def test_a_refused_vote_keeps_the_page_and_what_the_reviewer_wrote(app, home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id))
    reviewer = console(app, "reviewer")
    page = reviewer.get(f"/egress/{req['id']}").text
    response = reviewer.post(f"/egress/{req['id']}/vote", data={
        "csrf": csrf_of(page), "decision": "approve", "comment": "数据口径清楚",
        "point:purpose_scope": "yes", "note:purpose_scope": "用途一致"}, follow_redirects=False)
    assert response.status_code == 422
    assert 'id="vote-error"' in response.text and "批准前请回答每个审核要点" in response.text
    assert "数据口径清楚" in response.text and 'value="用途一致"' in response.text
    assert '<option value="yes" selected>' in response.text
    assert reviewer.get(f"/egress/{req['id']}").text.count('id="vote"') == 1  # no vote cast


def test_reviewers_read_the_merchants_context_and_the_release_shows_its_table(
        app, home, people, grant_id):
    from tests.egress.test_egress import vote

    merchant = console(app, "merchant")
    job_id = job(home, people, grant_id)
    form = merchant.get(f"/egress/new?job={job_id}").text
    assert 'name="context"' in form and 'name="controls"' in form
    answer = merchant.post("/egress", data={
        "csrf": csrf_of(form), "job_id": str(job_id), "product": "统计表", "purpose": "卫生规划",
        "sources": "visits", "mitigation": "none", "context": "各区门诊人次\n按科室",
        "controls": "每格不少于 10 人"}, follow_redirects=False)
    request_id = int(answer.headers["location"].split("/")[2].split("?")[0])
    page = console(app, "reviewer").get(f"/egress/{request_id}").text
    assert "各区门诊人次\n按科室" in page and "每格不少于 10 人" in page and "背景说明" in page
    vote(home, people.reviewer, request_id)
    release_id = vote(home, people.reviewer2, request_id)["release_id"]
    shown = merchant.get(f"/releases/{release_id}").text
    assert 'id="released"' in shown and "已发布的数据表" in shown
    assert f'href="/releases/{release_id}/download?format=xlsx"' in shown
    csv_file = merchant.get(f"/releases/{release_id}/download?format=csv")
    assert csv_file.status_code == 200 and "attachment" in csv_file.headers["content-disposition"]
    rows = csv_file.content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("district")
    assert console(app, "reviewer").get(f"/releases/{release_id}/download?format=csv"
                                        ).status_code == 403
