"""The merchant's own tables in the workspace console, and through the API."""

from __future__ import annotations

import pytest

from service.api.app import create_app
from tests.sandbox.test_own_data import pii_file, sales_file  # noqa: F401 - fixtures
from tests.service.test_api import auth
from tests.service.web_helpers import console, csrf_of, set_passwords


@pytest.fixture
def app(home, people):
    set_passwords(home, *people.tokens)
    return create_app(home, workers=0)


def send(client, grant_id, path, name, person_key=""):
    page = client.get(f"/workspace/{grant_id}")
    with path.open("rb") as handle:
        return client.post(f"/workspace/{grant_id}/own-data", data={
            "csrf": csrf_of(page.text), "name": name, "person_key": person_key},
            files={"file": (path.name, handle)}, follow_redirects=False)


def test_a_merchant_uploads_lists_and_deletes_its_table(app, people, grant_id,
                                                        sales_file):  # noqa: F811
    merchant = console(app, "merchant")
    sent = send(merchant, grant_id, sales_file, "sales", "customer_no")
    assert sent.status_code == 303, sent.text[:2000]
    page = merchant.get(sent.headers["location"]).text
    assert "你的自有数据" in page and "sales" in page and "customer_no" in page
    own_id = int(page.split('action="/own-data/')[1].split("/")[0])
    gone = merchant.post(f"/own-data/{own_id}/delete", data={"csrf": csrf_of(page)},
                         follow_redirects=False)
    assert gone.status_code == 303
    assert 'action="/own-data/' not in merchant.get(f"/workspace/{grant_id}").text


def test_a_refused_file_is_said_on_the_page_and_the_form_kept(app, grant_id,
                                                              pii_file):  # noqa: F811
    merchant = console(app, "merchant")
    answer = send(merchant, grant_id, pii_file, "customers")
    assert answer.status_code == 422
    assert 'role="alert"' in answer.text and "resident_id" in answer.text
    assert 'value="customers"' in answer.text


def test_own_data_through_the_api(app, people, grant_id, sales_file):  # noqa: F811
    from fastapi.testclient import TestClient

    client = TestClient(app)
    token = auth(people.tokens["merchant"])
    with sales_file.open("rb") as handle:
        made = client.post(f"/api/v1/grants/{grant_id}/own-data", headers=token,
                           data={"name": "sales", "person_key": "customer_no"},
                           files={"file": (sales_file.name, handle)})
    assert made.status_code == 201, made.json()
    assert made.json()["rows"] == 600 and made.json()["entities"] == {}
    listed = client.get(f"/api/v1/grants/{grant_id}/own-data", headers=token).json()
    assert [o["name"] for o in listed] == ["sales"]
    other = auth(people.tokens["merchant_b"])
    assert client.get(f"/api/v1/grants/{grant_id}/own-data", headers=other).status_code == 404
    assert client.delete(f"/api/v1/own-data/{made.json()['id']}",
                         headers=other).status_code == 404
    deleted = client.delete(f"/api/v1/own-data/{made.json()['id']}", headers=token)
    assert deleted.status_code == 200 and deleted.json()["status"] == "deleted"
