"""The views the actions return are the API's declared responses and what --json prints."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from actions import Context, applications, views
from catalog.applications import Request
from service.api.app import create_app
from tests.conftest import register


def test_the_api_declares_the_views_as_its_responses(home):
    spec = create_app(home).openapi()
    schemas = spec["components"]["schemas"]
    for name in ("ApplicationView", "GrantView", "AlertView", "ReleaseView", "ProductView",
                 "IssuedToken", "NewUser", "ListedUser", "SweepView"):
        assert name in schemas, name

    def response(path: str, method: str = "get") -> str:
        content = spec["paths"][path][method]["responses"]
        body = content.get("200", content.get("201"))["content"]["application/json"]["schema"]
        return str(body)

    assert "ApplicationView" in response("/api/v1/applications/{application_id}")
    assert "GrantView" in response("/api/v1/grants")
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
