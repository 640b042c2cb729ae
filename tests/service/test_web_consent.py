"""Consent records in the console and over the API: the providing department turns consent
scoping on, files a consent file and withdraws a person; the regulator reads; a merchant sees
only that the dataset is used with consent."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from tests.conftest import register
from tests.service.web_helpers import console, post_form, set_passwords


@pytest.fixture
def app(home, people, visits_file):
    set_passwords(home, *people.tokens)
    register(home, people.provider, visits_file)
    return create_app(home, workers=0)


def test_a_department_files_and_withdraws_consents_in_the_console(app, people, visits_file):
    page = "/provider/datasets/visits/consent"
    provider, regulator = console(app, "provider"), console(app, "regulator")
    html = provider.get("/provider/datasets/visits").text
    assert f'href="{page}"' in html
    assert 'id="consent-required"' in provider.get(page).text
    turned = post_form(provider, f"{page}/required", {"required": "on"}, page)
    assert turned.status_code == 303 and "done=consent_changed" in turned.headers["location"]
    ids = list(dict.fromkeys(pq.read_table(visits_file).column("resident_id").to_pylist()))
    body = "subject,columns,given_on,expires_on,reference\n" + "".join(
        f"{r},,2025-01-01,,同意书-{i}\n" for i, r in enumerate(ids[:3]))
    filed = post_form(provider, f"{page}/file", {}, page,
                      files={"file": ("consents.csv", body.encode("gb18030"), "text/csv")})
    assert filed.status_code == 303
    html = provider.get(page).text
    assert 'data-count="active">3<' in html and "同意书-2" in html
    assert ids[0] not in html  # a person only as a digest
    bad = post_form(provider, f"{page}/file", {}, page,
                    files={"file": ("bad.csv", b"subject,columns\nx,salary\n", "text/csv")})
    assert bad.status_code == 422 and "salary" in bad.text
    gone = post_form(provider, f"{page}/withdrawal", {"subjects": ids[0], "ids": ""}, page)
    assert gone.status_code == 303
    html = provider.get(f"{page}?status=withdrawn").text
    assert html.count('data-status="withdrawn"') == 1
    none = post_form(provider, f"{page}/withdrawal", {"subjects": ids[0], "ids": ""}, page)
    assert none.status_code == 422 and "没有这些个人的有效同意" in none.text

    read = regulator.get(page)
    assert read.status_code == 200 and 'id="consent-upload"' not in read.text
    assert console(app, "merchant").get(page).status_code == 403
    assert "consent-note" in console(app, "merchant").get("/catalog/visits").text


def test_the_api_files_lists_and_withdraws_consents(app, people, visits_file):
    client = TestClient(app)
    headers = {"Authorization": f"Bearer {people.tokens['provider']}"}
    url = "/api/v1/datasets/visits"
    assert client.put(f"{url}/consent", json={"required": True}, headers=headers).json()[
        "required"]
    ids = list(dict.fromkeys(pq.read_table(visits_file).column("resident_id").to_pylist()))
    made = client.post(f"{url}/consents", headers=headers, json={"consents": [
        {"subject": ids[0], "columns": ["district", "fee"]}, {"subject": ids[1]}]})
    assert made.status_code == 201 and made.json()["recorded"] == 2
    listed = client.get(f"{url}/consents", headers=headers).json()
    assert [c["columns"] for c in listed] == [None, ["district", "fee"]]
    assert all(ids[0] not in str(c) and len(c["subject"]) == 12 for c in listed)
    refused = client.post(f"{url}/consents", headers=headers,
                          json={"consents": [{"subject": ids[2], "expires_on": "soon"}]})
    assert refused.status_code == 422 and refused.headers["content-type"] == \
        "application/problem+json"
    gone = client.post(f"{url}/consents/withdrawal", headers=headers,
                       json={"ids": [listed[0]["id"]]})
    assert gone.json()["withdrawn"] == 1
    counts = client.get(f"{url}/consent", headers=headers).json()["counts"]
    assert (counts["active"], counts["withdrawn"]) == (1, 1)
    merchant = {"Authorization": f"Bearer {people.tokens['merchant']}"}
    assert client.get(f"{url}/consents", headers=merchant).status_code == 403
    assert client.get(url, headers=merchant).json()["consent_required"] is True
