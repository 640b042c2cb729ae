"""The public pages (Measures Art. 11, 35): the catalog, simulated previews and disclosures
read without signing in, and nothing of the real data or of the platform's security in them."""

from __future__ import annotations

import datetime as dt

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from actions import Context
from actions import catalog as catalog_actions
from service.api.app import create_app
from tests.conftest import apply, approve, register
from tests.helpers import set_policy


@pytest.fixture
def registered(home, people, visits_file):
    register(home, people.provider, visits_file)  # an L3 dataset
    return visits_file


def anonymous(home) -> TestClient:
    return TestClient(create_app(home, workers=0))


def test_anyone_reads_the_catalog_and_a_simulated_preview_never_the_real_rows(
        home, people, registered):
    catalog_actions.build_preview(Context.of(home, people.provider), "visits")
    client = anonymous(home)
    listed = client.get("/public/catalog?q=门诊")
    assert listed.status_code == 200 and 'data-dataset="visits"' in listed.text
    assert 'data-dataset="visits"' not in client.get("/public/catalog?q=不存在的词").text
    page = client.get("/public/catalog/visits")
    assert page.status_code == 200 and 'id="public-schema"' in page.text
    assert "simulated-label" in page.text and "<td>" in page.text
    real = pq.read_table(registered).to_pydict()
    with home.store.read() as s:
        from catalog.datasets import get

        version = get(s, "visits").latest
        sha, pii = version.sha256, version.pii
    # No hash of the real file, no scan shares, no real name or resident ID.
    assert sha not in page.text and "share" not in page.text
    assert pii, "the visits hold personal information the scan found"
    for value in real["patient_name"][:50] + real["resident_id"][:50]:
        assert str(value) not in page.text
    assert client.get("/public/catalog/nope").status_code == 404
    assert client.get("/catalog/visits", follow_redirects=False).status_code == 303  # signed-in


def test_previews_above_the_policys_level_stay_for_signed_in_users(home, people, registered):
    set_policy(home, public_preview_max_level='"L2"')
    client = anonymous(home)
    page = client.get("/public/catalog/visits")
    assert page.status_code == 200 and "simulated-label" not in page.text
    assert 'badge not_public' in client.get("/public/catalog").text


def test_disclosures_name_grants_without_figures_of_real_data_or_security(
        home, people, registered):
    approve(home, people.reviewer, apply(home, people.merchant))
    page = anonymous(home).get("/public/disclosure")
    assert page.status_code == 200
    grants = page.text.split('id="public-grants"')[1].split("</table>")[0]
    assert "粤数科技" in grants and "门诊分析" in grants and "visits" in grants
    assert "已接受于" in grants  # the operation agreement's acceptance is disclosed
    # Exact rows produced by jobs, and security counts, are not for the public.
    from service.web import i18n

    words = i18n.catalog("zh_CN").gettext
    assert words("Rows produced") not in page.text and words("Security events") not in page.text
    assert 'id="public-use"' in page.text


def test_a_revoked_grant_is_disclosed_as_a_change(home, people, registered):
    from actions import applications as application_actions

    grant = approve(home, people.reviewer, apply(home, people.merchant)).grant.id
    application_actions.revoke(Context.of(home, people.admin), grant, "违反协议约定的安全义务")
    page = anonymous(home).get("/public/disclosure").text
    changes = page.split('id="public-grant-changes"')[1].split("</table>")[0]
    assert 'data-change="revoked"' in changes and "粤数科技" in changes
    assert "违反协议" not in page  # the reason stays with the platform
    api = anonymous(home).get("/api/v1/public/disclosure", params={"year": dt.date.today().year})
    assert [c["change"] for c in api.json()["grant_changes"]] == ["revoked"]


def test_a_policy_can_close_the_public_pages_and_each_address_is_rate_limited(home, people,
                                                                            registered):
    set_policy(home, public_requests_per_minute="3")
    client = anonymous(home)
    codes = [client.get("/public/catalog").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    set_policy(home, public_pages="false")
    closed = anonymous(home)
    assert closed.get("/public/catalog").status_code == 404
    assert closed.get("/public/disclosure").status_code == 404
    assert "/public/catalog" not in closed.get("/sign-in").text


def test_the_api_serves_the_same_without_a_token(home, people, registered):
    catalog_actions.build_preview(Context.of(home, people.provider), "visits")
    approve(home, people.reviewer, apply(home, people.merchant))
    client = anonymous(home)
    listed = client.get("/api/v1/public/catalog")
    assert listed.status_code == 200, listed.text
    (entry,) = listed.json()
    assert entry["name"] == "visits" and "sha256" not in entry and "pii" not in entry
    detail = client.get("/api/v1/public/catalog/visits").json()
    assert {c["name"] for c in detail["schema"]} >= {"district", "patient_name"}
    shown = client.get("/api/v1/public/catalog/visits/preview?rows=5").json()
    assert len(shown["rows"]) == 5 and "SIMULATED" in shown["label"].upper()
    year = shown["built_at"][:4]
    disclosed = client.get(f"/api/v1/public/disclosure?year={year}").json()
    assert disclosed["grants"][0]["org"] == "粤数科技"
    assert "security_events" not in disclosed
    assert all(set(u) == {"dataset", "jobs", "releases"} for u in disclosed["dataset_use"])
    assert client.get("/api/v1/public/disclosure?year=99").status_code == 422
    set_policy(home, public_preview_max_level='"L2"')
    assert anonymous(home).get("/api/v1/public/catalog/visits/preview").status_code == 403
