"""Schemathesis against the API's own OpenAPI schema: requests generated from the schema (valid
and invalid) never get a 5xx, and every documented answer matches its schema."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.users import add_user
from policies import OPERATOR
from service.api.app import create_app
from service.home import Home
from tests.conftest import apply, approve, register
from tests.service.test_api import EXPECTED, PUBLIC

# Rotating the token the fuzzer authenticates with would only turn later cases into 401s.
SKIPPED = {("POST", "/api/v1/me/token"), ("POST", "/api/v1/users/{name}/token")}


@pytest.fixture(scope="module")
def api(tmp_path_factory, visits_file):
    home = Home(tmp_path_factory.mktemp("fuzz") / "home")
    home.init()
    # The fuzzer sends far more than a person would: lift the per-token rate limit for it.
    home.policy = home.policy.changed("api", **{
        "requests_per_minute": 1_000_000})
    tokens, actors = {}, {}
    with home.store.transaction() as s:
        for role, org in (("admin", None), ("provider", None), ("merchant", "甲公司"),
                          ("reviewer", "审核机构")):
            user, tokens[role] = add_user(s, OPERATOR, role, role, org)
            actors[role] = user.actor()
    register(home, actors["provider"], visits_file)
    approve(home, actors["reviewer"], apply(home, actors["merchant"]))
    yield create_app(home, workers=0), tokens
    home.store.dispose()


def fuzz(operation, headers: dict[str, str]) -> None:
    @settings(max_examples=8, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case):
        case.call_and_validate(headers=headers,
                               checks=[not_a_server_error, response_schema_conformance])

    check()


def test_no_input_gets_a_server_error_or_an_answer_off_its_schema(api):
    # Driven without schemathesis' pytest plugin (it does not run under pytest 9): each
    # operation's cases come from its Hypothesis strategy, valid and invalid ones.
    app, tokens = api
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if key in SKIPPED:
            continue
        # What anyone may read is fuzzed without a token, as anyone would send it.
        fuzz(operation, {} if key in PUBLIC else
             {"Authorization": f"Bearer {tokens[sorted(EXPECTED[key])[0]]}"})
        tried += 1
    assert tried == len(EXPECTED) + len(PUBLIC) - len(SKIPPED)


NAMES = st.text(st.characters(codec="utf-8"), max_size=80) | st.sampled_from([
    "../../etc/passwd", "a/b", "CON", "x" * 300, "名字", "drop table", "", " ", "\x00", "ok_name"])


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(filename=NAMES, name=NAMES, title=NAMES, body=st.binary(max_size=2000),
       suffix=st.sampled_from([".csv", ".parquet", ".txt", ".exe", "", ".csv/../x"]))
def test_hostile_uploads_get_a_clear_answer_and_leave_nothing_behind(api, filename, name, title,
                                                                     body, suffix):
    app, tokens = api
    client = TestClient(app)
    response = client.post(
        "/api/v1/datasets", headers={"Authorization": f"Bearer {tokens['provider']}"},
        files={"file": (filename + suffix, body, "application/octet-stream")},
        data={"name": name, "title": title, "domain": "health", "level": "L2",
              "attribute": "open"})
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/") and response.json()
    if response.status_code != 201:
        assert response.json()["detail"]  # says what was wrong
    home = app.state.home
    assert list((home.root / "scratch").iterdir()) == []  # the upload never outlives the request
    assert all(p.resolve().is_relative_to(home.root.resolve()) for p in home.root.rglob("*"))
