"""The workspace's DP form and privacy budget in the console."""

from __future__ import annotations

import pytest

from service.api.app import create_app
from tests.service.web_helpers import console, post_form, set_passwords


@pytest.fixture
def app(home, people):
    set_passwords(home, *people.tokens)
    return create_app(home, workers=0)


FORM = {"table": "visits", "by": "district", "count": "1", "statistics": "mean fee 0 2000\n"
        "quantile age 0 100 0.9", "where": "age >= 18", "epsilon": "0.5", "contributions": "1",
        "output_name": "dp_web", "target": "real"}


def test_a_merchant_runs_a_dp_job_from_the_workspace_and_sees_the_budget(app, home, people,
                                                                         grant_id):
    merchant = console(app, "merchant")
    page = merchant.get(f"/workspace/{grant_id}")
    assert "差分隐私" in page.text and "隐私预算" in page.text
    sent = post_form(merchant, f"/workspace/{grant_id}/dp", FORM, f"/workspace/{grant_id}")
    assert sent.status_code == 303, sent.text[:2000]
    job_id = int(sent.headers["location"].rsplit("/", 1)[1])
    home.run_job(job_id)
    shown = merchant.get(f"/jobs/{job_id}").text
    assert "差分隐私" in shown and "0.5" in shown
    page = merchant.get(f"/workspace/{grant_id}").text
    assert "<strong>0.5</strong> / 2" in page  # spent of the L3 budget


def test_a_bad_dp_form_is_shown_again_with_its_error(app, people, grant_id):
    merchant = console(app, "merchant")
    for changes in ({"statistics": "mean fee"}, {"epsilon": "lots"}, {"epsilon": "9"}):
        answer = post_form(merchant, f"/workspace/{grant_id}/dp", FORM | changes,
                           f"/workspace/{grant_id}")
        assert answer.status_code == 422
        assert 'role="alert"' in answer.text and "dp_web" in answer.text  # the form kept


def test_another_organization_cannot_use_the_form(app, grant_id):
    other = console(app, "merchant_b")
    answer = post_form(other, f"/workspace/{grant_id}/dp", FORM, "/catalog")
    assert answer.status_code == 404
