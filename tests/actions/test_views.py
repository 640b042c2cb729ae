"""The views the actions return are the API's declared responses and what --json prints."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from actions import Context, applications, views
from catalog.applications import Request
from service.api.app import create_app
from tests.conftest import register
from tests.helpers import set_policy


def test_the_api_declares_the_views_as_its_responses(home):
    spec = create_app(home).openapi()
    schemas = spec["components"]["schemas"]
    for name in ("ApplicationView", "GrantView", "AlertView", "ReleaseView", "ProductView",
                 "IssuedToken", "NewUser", "ListedUser", "SweepView", "DatasetView",
                 "JobView", "EgressView", "ReviewView"):
        assert name in schemas, name

    def response(path: str, method: str = "get") -> str:
        content = spec["paths"][path][method]["responses"]
        body = content.get("200", content.get("201"))["content"]["application/json"]["schema"]
        return str(body)

    assert "ApplicationView" in response("/api/v1/applications/{application_id}")
    assert "GrantView" in response("/api/v1/grants")
    assert "DatasetView" in response("/api/v1/datasets/{name}")
    assert "JobView" in response("/api/v1/jobs/{job_id}")
    assert "EgressView" in response("/api/v1/egress")
    assert schemas["GrantView"]["properties"]["status"]["$ref"].endswith("GrantStatus")


def test_an_action_returns_its_view(home, people, visits_file):
    register(home, people.provider, visits_file)
    merchant = Context.of(home, people.merchant)
    app = applications.submit(merchant, Request(
        "场景", "描述", "用途", "产品", 6, False,
        [{"dataset": "visits", "columns": ["district"], "raw_columns": []}]))
    assert set(app) == set(views.ApplicationView.model_fields)
    assert app["status"] == "submitted" and app["items"][0]["dataset"] == "visits"


def test_a_field_the_view_does_not_declare_fails_loudly():
    with pytest.raises(ValidationError):
        views.AlertView.of({"id": 1, "grant_id": 1, "org": "o", "kind": "budget", "details": {},
                            "created_at": None, "acknowledged_by": None,
                            "acknowledged_at": None, "secret_value": 42})


def test_per_role_views_leave_out_what_the_role_may_not_read(home, people, grant_id):
    """A real job's merchant reads a band of rows and no hash; an operator exact figures."""
    from actions import jobs
    set_policy(home, real_timing_seconds="1")  # the outcome shows within a second, not ten
    merchant = Context.of(home, people.merchant)
    job = jobs.submit(merchant, grant_id, "SELECT district, count(*) AS n FROM visits "
                      "GROUP BY 1", "by_district")
    done = jobs.wait(merchant, job["id"], timeout=120)
    assert done["status"] == "succeeded" and done["coarse"] is True
    assert done["output"]["rows"] is None and done["output"]["sha256"] is None
    assert "error_detail" not in done and done["output"]["rows_band"]
    seen = jobs.summary(Context.of(home, people.admin), job["id"])
    assert seen["output"]["rows"] > 0 and len(seen["output"]["sha256"]) == 64
    assert "rows_band" not in seen["output"] and "error_detail" in seen
    # The regulator audits exact figures, without the operators' error details.
    audited = jobs.summary(Context.of(home, people.regulator), job["id"])
    assert audited["output"]["rows"] == seen["output"]["rows"] and "error_detail" not in audited
    from actions import egress

    with pytest.raises(Exception, match="needs the role merchant"):
        jobs.submit(Context.of(home, people.regulator), grant_id, "SELECT 1 AS x", "x")
    assert egress.search(Context.of(home, people.regulator)) == []


def test_a_sparse_view_still_refuses_an_undeclared_field():
    review = {"reviewer_org": "o", "decision": "approve", "round": 1, "comment": "ok",
              "overrides": {}, "time": None}
    assert "reviewer_id" not in views.ReviewView.of(review)
    with pytest.raises(ValidationError):
        views.ReviewView.of({**review, "reviewer_name": "张三"})
