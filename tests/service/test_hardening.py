"""API hardening: refused tokens logged and rate-limited, token expiry and rotation, body-size
limits, the console's sign-in limit, response headers, no stack traces."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from accounts.users import User
from catalog import datasets
from lineage.ledger import LedgerEvent
from service.api.app import create_app
from service.limits import WINDOW_SECONDS, Window
from tests.service.web_helpers import PASSWORD, set_passwords, sign_in


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(home, people):
    set_passwords(home, *people.tokens)
    return TestClient(create_app(home, workers=0))


def events(home, action):
    with home.store.read() as s:
        return s.execute(select(LedgerEvent.subject, LedgerEvent.payload)
                         .where(LedgerEvent.action == action)).all()


def test_a_refused_token_is_logged_and_a_guessing_client_must_wait(client, home, people):
    home.policy = home.policy.changed("api", **{
        "token_failures_per_minute": 3})
    client.app.state.limits.token_failures.per_minute = 3
    for _ in range(3):
        refused = client.get("/api/v1/me", headers=auth("tds_guess"))
        assert refused.status_code == 401 and refused.json()["detail"] == "the API token is not valid"
    limited = client.get("/api/v1/me", headers=auth(people.tokens["merchant"]))
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert limited.headers["content-type"] == "application/problem+json"
    assert "wait" in limited.json()["detail"]
    logged = events(home, "auth.failed")
    assert len(logged) == 3 and all(subject == "user:unknown" for subject, _ in logged)
    assert all("tds_guess" not in payload for _, payload in logged)


def test_tokens_expire_and_rotate(client, home, people):
    token = people.tokens["merchant"]
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 200
    days = home.policy.api.token_days
    with home.store.transaction() as s:
        s.execute(update(User).where(User.name == "merchant").values(
            token_issued_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)
            - dt.timedelta(days=days, seconds=1)))
    expired = client.get("/api/v1/me", headers=auth(token))
    assert expired.status_code == 401 and "expired on" in expired.json()["detail"]
    assert events(home, "auth.failed")[-1][0] == f"user:{people.merchant.id}"
    issued = client.post("/api/v1/users/merchant/token", headers=auth(people.tokens["admin"]))
    assert issued.status_code == 200 and issued.json()["token"] != token
    new = issued.json()["token"]
    assert client.get("/api/v1/me", headers=auth(new)).json()["name"] == "merchant"
    rotated = client.post("/api/v1/me/token", headers=auth(new)).json()["token"]
    assert client.get("/api/v1/me", headers=auth(new)).status_code == 401  # at once
    assert client.get("/api/v1/me", headers=auth(rotated)).status_code == 200
    other = client.post("/api/v1/users/admin/token", headers=auth(rotated))
    assert other.status_code == 403
    assert len(events(home, "user.token_rotated")) == 2


def test_an_oversized_body_is_refused_before_anything_happens(client, home, people):
    home.policy = home.policy.changed("api", **{
        "max_request_bytes": 2000})
    big = {"scenario": "x" * 5000, "description": "d", "purpose": "p", "products": "p",
           "months": 1, "items": [{"dataset": "visits", "columns": ["district"]}]}
    response = client.post("/api/v1/applications", json=big,
                           headers=auth(people.tokens["merchant"]))
    assert response.status_code == 413 and response.json()["title"] == "Too large"

    def chunks():  # no Content-Length: counted while read
        yield b'{"scenario": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    streamed = client.post("/api/v1/applications", content=chunks(),
                           headers=auth(people.tokens["merchant"]) | {
                               "content-type": "application/json"})
    assert streamed.status_code == 413
    assert events(home, "application.submitted") == []


def test_uploads_get_the_upload_limit_not_the_request_limit(client, home, people, visits_file):
    home.policy = home.policy.changed("api", **{
        "max_request_bytes": 1000})
    with visits_file.open("rb") as f:
        done = client.post("/api/v1/datasets", headers=auth(people.tokens["provider"]),
                           files={"file": ("visits.parquet", f, "application/octet-stream")},
                           data={"name": "visits", "title": "门诊", "domain": "health",
                                 "level": "L3", "attribute": "conditional"})
    assert done.status_code == 201, done.json()
    with home.store.read() as s:
        assert datasets.get(s, "visits").latest.rows == 400


def test_console_sign_in_is_limited_per_address_and_name(client, home):
    limit = home.policy.api.sign_in_failures_per_minute
    for _ in range(limit):
        assert sign_in(client, "merchant", "not the password").status_code == 401
    blocked = sign_in(client, "merchant", PASSWORD)  # even the right password waits now
    assert blocked.status_code == 429 and "wait" in blocked.text
    assert len(events(home, "auth.failed")) == limit  # waiting attempts are not even checked


def test_api_answers_are_not_cached_and_tls_is_pinned(client, people):
    response = client.get("/api/v1/me", headers=auth(people.tokens["merchant"]) | {
        "X-Forwarded-Proto": "https"})
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_an_unexpected_error_shows_no_stack_trace(home, people, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("internal detail /etc/secret")

    monkeypatch.setattr(datasets, "list_datasets", broken)
    set_passwords(home, "merchant")
    client = TestClient(create_app(home, workers=0), raise_server_exceptions=False)
    api = client.get("/api/v1/datasets", headers=auth(people.tokens["merchant"]))
    assert api.status_code == 500 and "internal detail" not in api.text
    assert "Traceback" not in api.text and api.json()["detail"].startswith("an unexpected error")
    sign_in(client, "merchant")
    page = client.get("/catalog")
    assert page.status_code == 500 and "internal detail" not in page.text
    assert "Traceback" not in page.text and "出现错误" in page.text


@settings(max_examples=200, deadline=None)
@given(per_minute=st.integers(1, 5),
       gaps=st.lists(st.floats(0, 40, allow_nan=False), min_size=1, max_size=40))
def test_a_window_never_admits_more_than_its_limit_in_any_minute(per_minute, gaps):
    window, now, admitted = Window(per_minute), 0.0, []
    for gap in gaps:
        now += gap
        if window.hit("k", now) == 0:
            admitted.append(now)
        else:
            assert window.wait("k", now) > 0
    for start in admitted:
        assert sum(start <= t < start + WINDOW_SECONDS for t in admitted) <= per_minute
