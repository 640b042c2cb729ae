"""The HTTP API: every endpoint x every role, problem responses, and the flow end to end."""

from __future__ import annotations

import io
import time
import zipfile

import openpyxl
import pytest
from fastapi.testclient import TestClient

from egress.bundle import verify_bundle
from service.api.app import create_app
from service.demo import CHECKLIST
from tests.conftest import PASS, PDF
from tests.helpers import set_policy

M, R, A, P, G = "merchant", "reviewer", "admin", "provider", "regulator"
EVERYONE = {M, R, A, P, G}
EXPECTED = {
    ("GET", "/api/v1/me"): EVERYONE,
    ("POST", "/api/v1/users"): {A},
    ("GET", "/api/v1/users"): {A},
    ("POST", "/api/v1/me/token"): EVERYONE,
    ("POST", "/api/v1/users/{name}/token"): {A},
    ("GET", "/api/v1/datasets"): EVERYONE,
    ("GET", "/api/v1/datasets/{name}"): EVERYONE,
    ("POST", "/api/v1/datasets"): {P, A},
    ("POST", "/api/v1/datasets/{name}/classification"): {P, A},
    ("GET", "/api/v1/datasets/{name}/preview"): EVERYONE,
    ("POST", "/api/v1/applications"): {M},
    ("GET", "/api/v1/applications"): {M, R, A, P, G},
    ("GET", "/api/v1/applications/{application_id}"): {M, R, A, P, G},
    ("GET", "/api/v1/applications/to-check"): {P, A},
    ("POST", "/api/v1/applications/{application_id}/checks/{dataset}"): {P, A},
    ("POST", "/api/v1/applications/{application_id}/attachments"): {M},
    ("GET", "/api/v1/applications/{application_id}/attachments/{attachment_id}"): {M, R, A, P, G},
    ("DELETE", "/api/v1/applications/{application_id}/attachments/{attachment_id}"): {M},
    ("POST", "/api/v1/applications/{application_id}/decision"): {R},
    ("POST", "/api/v1/applications/{application_id}/amend"): {M},
    ("POST", "/api/v1/applications/{application_id}/withdraw"): {M},
    ("POST", "/api/v1/applications/sweep"): {A},
    ("POST", "/api/v1/cases"): {M, P, R, A},
    ("GET", "/api/v1/cases"): EVERYONE,
    ("GET", "/api/v1/cases/{case_id}"): EVERYONE,
    ("POST", "/api/v1/cases/{case_id}/response"): {A},
    ("POST", "/api/v1/cases/{case_id}/resolution"): {A},
    ("POST", "/api/v1/quality"): {M},
    ("GET", "/api/v1/quality"): EVERYONE,
    ("GET", "/api/v1/quality/{issue_id}"): EVERYONE,
    ("POST", "/api/v1/quality/{issue_id}/answer"): {P, A},
    ("POST", "/api/v1/quality/{issue_id}/fix"): {P, A},
    ("GET", "/api/v1/grants"): {M, R, A, G},
    ("POST", "/api/v1/grants/{grant_id}/revoke"): {A},
    ("GET", "/api/v1/grants/{grant_id}/agreement"): {M, R, A, G},
    ("POST", "/api/v1/grants/{grant_id}/agreement/accept"): {M},
    ("POST", "/api/v1/jobs"): {M},
    ("POST", "/api/v1/jobs/dp"): {M},
    ("POST", "/api/v1/grants/{grant_id}/own-data"): {M},
    ("GET", "/api/v1/grants/{grant_id}/own-data"): {M, R, A, G},
    ("DELETE", "/api/v1/own-data/{own_id}"): {M},
    ("GET", "/api/v1/grants/{grant_id}/privacy-budget"): {M, R, A, G},
    ("GET", "/api/v1/jobs"): {M, R, A, G},
    ("GET", "/api/v1/jobs/{job_id}"): {M, R, A, G},
    ("POST", "/api/v1/jobs/{job_id}/cancel"): {M, A},
    ("POST", "/api/v1/jobs/{job_id}/keep"): {M},
    ("GET", "/api/v1/todo"): EVERYONE,
    ("GET", "/api/v1/notices"): EVERYONE,
    ("POST", "/api/v1/notices/read"): EVERYONE,
    ("POST", "/api/v1/me/email"): EVERYONE,
    ("POST", "/api/v1/users/{name}/email"): {A},
    ("GET", "/api/v1/alerts"): {A},
    ("POST", "/api/v1/alerts/{alert_id}/ack"): {A},
    ("POST", "/api/v1/egress"): {M},
    ("GET", "/api/v1/egress"): {M, R, A, G},
    ("GET", "/api/v1/egress/{request_id}"): {M, R, A, G},
    ("POST", "/api/v1/egress/{request_id}/review"): {R},
    ("POST", "/api/v1/egress/{request_id}/resubmit"): {M},
    ("POST", "/api/v1/egress/{request_id}/withdraw"): {M},
    ("GET", "/api/v1/egress/{request_id}/values"): {R, A},
    ("GET", "/api/v1/products"): {M, R, A, G},
    ("GET", "/api/v1/releases"): {M, R, A, G},
    ("GET", "/api/v1/releases/{release_id}/bundle"): {M},
    ("GET", "/api/v1/releases/{release_id}/table"): {M, R, A, G},
    ("GET", "/api/v1/ledger/verify"): {A, G},
    ("GET", "/api/v1/ledger/events"): {A, G},
    ("GET", "/api/v1/ledger/proof/{seq}"): {A, G},
    ("GET", "/api/v1/lineage/{node}"): {A, G},
    ("GET", "/api/v1/ledger/consistency"): {A, G},
    ("GET", "/api/v1/usage"): {A, G},
    ("POST", "/api/v1/commerce/products"): {M},
    ("GET", "/api/v1/commerce/products"): {M, R, A, G},
    ("GET", "/api/v1/commerce/products/{product_id}"): {M, R, A, G},
    ("POST", "/api/v1/commerce/products/{product_id}/price"): {M},
    ("POST", "/api/v1/commerce/products/{product_id}/price/decision"): {A},
    ("POST", "/api/v1/commerce/products/{product_id}/withdrawal"): {M, A},
    ("POST", "/api/v1/commerce/bookings"): {M},
    ("GET", "/api/v1/commerce/bookings"): {M, A, G},
    ("POST", "/api/v1/commerce/bookings/{booking_id}/void"): {M},
    ("GET", "/api/v1/reports/annual"): {A, G},
    ("POST", "/api/v1/qualifications"): {M},
    ("GET", "/api/v1/qualifications"): {M, A, G},
    ("GET", "/api/v1/qualifications/{qualification_id}"): {M, A, G},
    ("POST", "/api/v1/qualifications/{qualification_id}/review"): {A},
    ("GET", "/api/v1/datasets/{name}/consent"): {P, A, G},
    ("PUT", "/api/v1/datasets/{name}/consent"): {P, A},
    ("GET", "/api/v1/datasets/{name}/consents"): {P, A, G},
    ("POST", "/api/v1/datasets/{name}/consents"): {P, A},
    ("POST", "/api/v1/datasets/{name}/consents/file"): {P, A},
    ("POST", "/api/v1/datasets/{name}/consents/withdrawal"): {P, A},
}


@pytest.fixture
def client(home):
    with TestClient(create_app(home)) as c:
        yield c


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def finished_job(client, token, job_id, timeout=60.0):
    """Poll a job until it ends: jobs run in the app's worker pool, not in the request."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=auth(token)).json()
        if job["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def routes(app):
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            yield method.upper(), path


# Read without a token (Measures Art. 11, 35): tests/service/test_web_public.py.
PUBLIC = {("GET", "/api/v1/public/catalog"), ("GET", "/api/v1/public/catalog/{name}"),
          ("GET", "/api/v1/public/catalog/{name}/preview"), ("GET", "/api/v1/public/disclosure"),
          ("GET", "/api/v1/public/products"), ("GET", "/api/v1/public/annual"),
          ("GET", "/api/v1/public/operators")}


def test_every_endpoint_is_in_the_role_matrix(client):
    assert set(routes(client.app)) == set(EXPECTED) | PUBLIC


@pytest.fixture(scope="module")
def matrix(tmp_path_factory, request):
    """One API (home, people, client) for every endpoint of the role matrix: each check is
    of a refusal that comes before any state is read, so they need no home of their own."""
    from service.home import Home
    from tests.conftest import BACKEND, PG_BASE, add_people

    url, databases = None, None
    if BACKEND == "postgresql":
        from sqlalchemy import make_url

        databases = request.getfixturevalue("pg_databases")
        name = databases.take()
        url = make_url(PG_BASE).set(database=name).render_as_string(hide_password=False)
    home = Home(tmp_path_factory.mktemp("matrix") / "home", url, None)
    home.init()
    # Every endpoint is asked once without a token: not the guessing the limit is for.
    set_policy(home, token_failures_per_minute="100000")
    people = add_people(home)
    with TestClient(create_app(home)) as client:
        yield client, people
    home.store.dispose()
    if databases is not None:
        databases.used.put(name)


@pytest.mark.store
@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_role_matrix(matrix, endpoint):
    client, people = matrix
    method, path = endpoint
    url = path.replace("{name}", "nope").replace("{node}", "job:999")
    for param in ("application_id", "grant_id", "job_id", "request_id", "release_id", "seq",
                  "issue_id", "case_id", "qualification_id"):
        url = url.replace("{" + param + "}", "999")
    anonymous = client.request(method, url, json={})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    for role in (M, R, A, P, G):
        response = client.request(method, url, json={}, headers=auth(people.tokens[role]))
        if endpoint == ("POST", "/api/v1/me/token") and response.status_code == 200:
            people.tokens[role] = response.json()["token"]  # rotated: later checks use it
        if role in EXPECTED[endpoint]:
            assert response.status_code not in (401, 403), (role, response.json())
        else:
            assert response.status_code == 403, (role, response.status_code)
            assert "needs the role" in response.json()["detail"]


def test_a_bad_token_is_refused(client):
    response = client.get("/api/v1/datasets", headers=auth("tds_forged"))
    assert response.status_code == 401
    assert response.json()["detail"] == "the API token is not valid"


def test_errors_are_problem_json_with_a_clear_title(client, people):
    response = client.get("/api/v1/datasets/nope", headers=auth(people.tokens[M]))
    assert response.status_code == 404
    body = response.json()
    assert body["title"] == "Not found" and body["detail"] == "no dataset named 'nope'"
    bad = client.post("/api/v1/applications", json={"scenario": 1},
                      headers=auth(people.tokens[M]))
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_the_whole_flow_over_http(client, people, visits_file, home):
    set_policy(home, real_timing_seconds="1")  # a real job's outcome shows within a second
    with visits_file.open("rb") as f:
        registered = client.post(
            "/api/v1/datasets", headers=auth(people.tokens[P]),
            files={"file": ("visits.parquet", f, "application/octet-stream")},
            data={"name": "visits", "title": "门诊记录", "domain": "health", "level": "L3",
                  "attribute": "conditional"})
    assert registered.status_code == 201, registered.json()
    app = client.post("/api/v1/applications", headers=auth(people.tokens[M]), json={
        "scenario": "门诊分析", "description": "d", "purpose": "p", "products": "统计表",
        "months": 12, "items": [{"dataset": "visits", "columns": ["district", "fee"]}]})
    assert app.status_code == 201, app.json()
    app_id = app.json()["id"]
    assert {m["reason"] for m in app.json()["missing"]} == {"check_pending",
                                                            "attachment_missing"}
    for kind in ("letter", "commitment"):
        filed = client.post(f"/api/v1/applications/{app_id}/attachments",
                            headers=auth(people.tokens[M]), data={"kind": kind},
                            files={"file": (f"{kind}函.pdf", PDF, "application/pdf")})
        assert filed.status_code == 201, filed.json()
    got = client.get(f"/api/v1/applications/{app_id}/attachments/{filed.json()['id']}",
                     headers=auth(people.tokens[P]))
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''commitment%E5%87%BD.pdf" in got.headers["content-disposition"]
    to_check = client.get("/api/v1/applications/to-check", headers=auth(people.tokens[P]))
    assert [a["id"] for a in to_check.json()] == [app_id]
    checked = client.post(f"/api/v1/applications/{app_id}/checks/visits",
                          headers=auth(people.tokens[P]),
                          json={"verdict": "agree", "assessment": PASS})
    assert checked.status_code == 200 and checked.json()["checks"][0]["verdict"] == "agreed"
    unrated = client.post(f"/api/v1/applications/{app_id}/decision",
                          headers=auth(people.tokens[R]), json={"approve": True, "comment": ""})
    assert unrated.status_code == 422 and "assessment" in unrated.json()["detail"]
    decided = client.post(f"/api/v1/applications/{app_id}/decision",
                          headers=auth(people.tokens[R]),
                          json={"decision": "approve", "comment": "", "assessment": PASS})
    assert decided.status_code == 200, decided.json()
    grant_id = decided.json()["grant_id"]
    early = client.post("/api/v1/jobs", headers=auth(people.tokens[M]), json={
        "grant_id": grant_id, "output_name": "early", "sql": "SELECT 1 AS x"})
    assert early.status_code == 403 and "accept the operation agreement" in early.json()["detail"]
    agreement = client.get(f"/api/v1/grants/{grant_id}/agreement",
                           headers=auth(people.tokens[M])).json()
    assert "粤数科技" in agreement["text"] and agreement["awaiting"]
    accepted = client.post(f"/api/v1/grants/{grant_id}/agreement/accept",
                           headers=auth(people.tokens[M])).json()
    assert accepted["accepted_at"] and accepted["sha256"] == agreement["sha256"]
    submitted = client.post("/api/v1/jobs", headers=auth(people.tokens[M]), json={
        "grant_id": grant_id, "output_name": "by_district",
        "sql": "SELECT district, count(*) AS n FROM visits GROUP BY 1 HAVING count(*) >= 10"})
    assert submitted.status_code == 202 and submitted.json()["status"] == "queued"
    job = finished_job(client, people.tokens[M], submitted.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    # Real rows are never shown, nor an exact count: a band.
    assert job["output"]["rows"] is None and job["output"]["rows_band"] == [10, 99]
    assert job["result"] is None and job["output"]["sha256"] is None
    req = client.post("/api/v1/egress", headers=auth(people.tokens[M]), json={
        "job_id": job["id"], "product": "区门诊量", "purpose": "规划",
        "sources": ["visits"], "context": "各区门诊人次", "controls": "每格至少 10 人"})
    assert req.status_code == 201, req.json()
    assert (req.json()["context"], req.json()["controls"]) == ("各区门诊人次", "每格至少 10 人")
    values = client.get(f"/api/v1/egress/{req.json()['id']}/values",
                        headers=auth(people.tokens[R])).json()
    assert values["columns"] == ["district", "n"] and all(r["cells"][1] >= 10
                                                           for r in values["rows"])
    assert client.get(f"/api/v1/egress/{req.json()['id']}/values",
                      headers=auth(people.tokens[M])).status_code == 403
    for reviewer in (R, "reviewer2"):
        voted = client.post(f"/api/v1/egress/{req.json()['id']}/review",
                            headers=auth(people.tokens[reviewer]),
                            json={"decision": "approve", "comment": "同意",
                                  "checklist": CHECKLIST})
        assert voted.status_code == 200, voted.json()
        assert voted.json()["approvals"] is None or reviewer == "reviewer2"  # blind until all in
    release_id = voted.json()["release_id"]
    assert release_id
    products = client.get("/api/v1/products", headers=auth(people.tokens[M])).json()
    assert products[0]["sources"][0]["dataset"] == "visits"
    other = client.get(f"/api/v1/releases/{release_id}/bundle",
                       headers=auth(people.tokens["merchant_b"]))
    assert other.status_code == 404
    bundle = client.get(f"/api/v1/releases/{release_id}/bundle", headers=auth(people.tokens[M]))
    assert bundle.status_code == 200
    target = home.root.parent / "downloaded"
    zipfile.ZipFile(io.BytesIO(bundle.content)).extractall(target)
    (folder,) = list(target.iterdir())
    verified = verify_bundle(folder)
    assert verified["valid"] and verified["logged"]  # carries the release event's proof
    table = client.get(f"/api/v1/releases/{release_id}/table?limit=3",
                       headers=auth(people.tokens[R])).json()
    assert table["columns"] == ["district", "n"] and len(table["rows"]) == 3
    assert table["total"] == len(values["rows"])
    csv_file = client.get(f"/api/v1/releases/{release_id}/bundle?format=csv",
                          headers=auth(people.tokens[M]))
    assert csv_file.headers["content-type"].startswith("text/csv")
    lines = csv_file.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "district,n" and len(lines) == table["total"] + 1
    xlsx = client.get(f"/api/v1/releases/{release_id}/bundle?format=xlsx",
                      headers=auth(people.tokens[M]))
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[1]] == ["district", "n"] and sheet.max_row == table["total"] + 1
    assert client.get(f"/api/v1/releases/{release_id}/bundle?format=exe",
                      headers=auth(people.tokens[M])).status_code == 422
    events = client.get("/api/v1/ledger/events?action=release.downloaded",
                        headers=auth(people.tokens[A])).json()["events"]
    assert len(events) == 3 and events[0]["status"] in ("verified", "pending")
    assert sorted(e["payload"]["format"] for e in events) == ["bundle", "csv", "xlsx"]
    assert client.get("/api/v1/ledger/verify", headers=auth(people.tokens[A])).json()["valid"]


def test_oversized_upload_is_refused(client, people, home, visits_file):
    home.policy = home.policy.changed("catalog", max_upload_bytes=1000)
    with visits_file.open("rb") as f:
        response = client.post(
            "/api/v1/datasets", headers=auth(people.tokens[P]),
            files={"file": ("visits.parquet", f, "application/octet-stream")},
            data={"name": "visits", "title": "t", "domain": "health", "level": "L3",
                  "attribute": "open"})
    assert response.status_code == 422
    assert "exceeds the policy's 1000 bytes" in response.json()["detail"]
    assert not any((home.root / "scratch").iterdir())
