"""Scan suggestions at registration, the provider's confirmation or override, and identifier
columns reaching the sandbox as pseudonyms by default."""

from __future__ import annotations

import re

import pyarrow.parquet as pq
import pytest

from anonymize.operators import PSEUDONYM_HEX
from catalog import applications, datasets
from lineage import LedgerEvent
from sandbox import jobs
from tests.conftest import approve, register
from tests.helpers import read_stored, refused

HEX = re.compile(rf"^[0-9a-f]{{{PSEUDONYM_HEX}}}$")


def tags(home, name="visits"):
    with home.store.read() as s:
        return {t["name"]: t for t in datasets.get(s, name).latest.tags()}


def classify(home, actor, name="visits", **kwargs):
    with home.store.transaction() as s:
        return datasets.describe(datasets.classify(s, actor, name, **kwargs).dataset, detail=True)


def test_registration_suggests_entities_and_a_level(home, people, visits_file):
    shown = register(home, people.provider, visits_file, level="L2")
    assert shown["classification"] == "suggested" and shown["suggested_level"] == "L3"
    found = {t["name"]: t["entity"] for t in shown["column_tags"]}
    assert found["resident_id"] == "CN_RESIDENT_ID" and found["patient_name"] == "PERSON"
    assert found["fee"] is None and found["district"] is None
    assert all(t["entity"] == t["suggested_entity"] for t in shown["column_tags"])


def test_the_provider_confirms_with_overrides_and_the_ledger_records_them(home, people,
                                                                         visits_file):
    register(home, people.provider, visits_file, level="L2")
    shown = classify(home, people.provider, entities={"mobile": None, "visit_id": "CN_PASSPORT"},
                     quasi_identifiers=["district", "age", "gender"], confidential=["fee"],
                     level="L3")
    assert shown["classification"] == "confirmed" and shown["level"] == "L3"
    now = tags(home)
    assert now["mobile"]["entity"] is None and now["mobile"]["suggested_entity"] == "CN_MOBILE"
    assert now["age"]["quasi_identifier"] and now["fee"]["confidential"]
    with home.store.read() as s:
        payload = s.query(LedgerEvent).filter_by(action="dataset.classified").one().as_dict()[
            "payload"]
    assert payload["overridden"]["mobile"] == {"suggested": "CN_MOBILE", "confirmed": None}
    assert set(payload["quasi_identifiers"]) == {"gender", "age", "district"}


@pytest.mark.parametrize("kwargs,message", [
    ({"entities": {"nope": None}}, "has no column 'nope'"),
    ({"entities": {"mobile": "PHONE_NUMBER"}}, "unknown entity"),
    ({"quasi_identifiers": ["nope"]}, "has no column"),
    ({"level": "L9"}, "level must be one of"),
])
def test_bad_classifications_are_refused_and_change_nothing(home, people, visits_file, kwargs,
                                                           message):
    register(home, people.provider, visits_file)
    before = tags(home)
    with refused(home, message):
        classify(home, people.provider, **kwargs)
    assert tags(home) == before


def test_only_the_owning_provider_or_an_admin_classifies(home, people, visits_file):
    register(home, people.provider, visits_file)
    for actor in (people.merchant, people.reviewer):
        with refused(home, "needs the role"):
            classify(home, actor, entities={"mobile": None})
    with refused(home, "no dataset named"):
        classify(home, people.provider_b, entities={"mobile": None})
    assert classify(home, people.admin, entities={"mobile": None})["classification"] == "confirmed"


def test_a_new_version_of_the_same_columns_keeps_the_flags_and_the_confirmation(
        home, people, visits_file):
    """The scan suggests what the provider confirmed: nothing to ask again (a new suggestion
    asks again: tests/egress/test_dismissed_pii.py)."""
    register(home, people.provider, visits_file)
    classify(home, people.provider, quasi_identifiers=["age"], confidential=["fee"])
    shown = register(home, people.provider, visits_file)
    assert shown["version"] == 2 and shown["classification"] == "confirmed"
    assert tags(home)["age"]["quasi_identifier"] and tags(home)["fee"]["confidential"]


def grant(home, people, columns, raw=(), level="L3", name="visits"):
    with home.store.transaction() as s:
        app = applications.submit(s, people.merchant, home.policy, applications.Request(
            f"场景{name}{len(raw)}", "按区统计", "卫生规划", "统计表", 12, False,
            [{"dataset": name, "columns": columns, "raw_columns": list(raw)}]))
        app_id = app.id
    return approve(home, people.reviewer, app_id).grant.id


def output(home, people, grant_id, sql, name="o"):
    with home.store.transaction() as s:
        job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id, sql, name).id
    home.run_job(job_id)
    with home.store.read() as s:
        job = jobs.get(s, people.merchant, job_id)
        assert job.status == "succeeded", job.error
        return read_stored(home, home.root / job.output_path).to_pydict()


def test_identifier_columns_reach_the_sandbox_as_pseudonyms_by_default(home, people, visits_file):
    register(home, people.provider, visits_file, level="L3")
    real = set(pq.read_table(visits_file).column("resident_id").to_pylist())
    grant_id = grant(home, people, ["resident_id", "mobile", "district"])
    with home.store.read() as s:
        view = jobs.grant_view(home.policy, applications.get_grant(s, people.merchant, grant_id))
    assert view["datasets"][0]["pseudonymized"] == ["resident_id", "mobile"]
    data = output(home, people, grant_id, "SELECT resident_id, mobile, district FROM visits")
    assert all(HEX.match(v) for v in data["resident_id"] + data["mobile"])
    assert not set(data["resident_id"]) & real
    assert len(set(data["resident_id"])) == len(real)  # joins and counts still work
    assert "天河区" in data["district"] or len(set(data["district"])) > 1


def test_a_grant_that_asked_for_raw_values_sees_them(home, people, visits_file):
    register(home, people.provider, visits_file, level="L3")
    real = set(pq.read_table(visits_file).column("resident_id").to_pylist())
    grant_id = grant(home, people, ["resident_id", "mobile"], raw=["resident_id"])
    data = output(home, people, grant_id, "SELECT resident_id, mobile FROM visits")
    assert set(data["resident_id"]) == real and all(HEX.match(v) for v in data["mobile"])


def test_levels_whose_policy_says_so_are_not_pseudonymized(home, people, visits_file):
    register(home, people.provider, visits_file, level="L2")
    grant_id = grant(home, people, ["resident_id"])
    data = output(home, people, grant_id, "SELECT resident_id FROM visits")
    assert not any(HEX.match(v) for v in data["resident_id"])


def test_a_column_the_provider_cleared_is_not_pseudonymized(home, people, visits_file):
    register(home, people.provider, visits_file, level="L3")
    classify(home, people.provider, entities={"mobile": None})
    grant_id = grant(home, people, ["mobile"])
    data = output(home, people, grant_id, "SELECT mobile FROM visits")
    assert not any(HEX.match(v) for v in data["mobile"])


def test_raw_access_only_to_listed_identifier_columns(home, people, visits_file):
    register(home, people.provider, visits_file, level="L3")
    for raw, message in ((["district"], "holds no identifier"), (["mobile"], "among its listed")):
        with refused(home, message), home.store.transaction() as s:
            applications.submit(s, people.merchant, home.policy, applications.Request(
                "场景", "说明", "目的", "产品", 12, False,
                [{"dataset": "visits", "columns": ["district"], "raw_columns": raw}]))


def test_a_merchant_cannot_compute_the_stored_pseudonyms_of_guesses(home, people, visits_file):
    # The dictionary attack: tds_pseudonym() over every possible value, joined to the stored
    # pseudonyms, would reverse the column if both used one key.
    register(home, people.provider, visits_file, level="L3")
    real = sorted(set(pq.read_table(visits_file).column("resident_id").to_pylist()))
    grant_id = grant(home, people, ["resident_id", "district"])
    guesses = ", ".join(f"('{v}')" for v in real)
    data = output(home, people, grant_id, f"""
        WITH guesses(g) AS (VALUES {guesses})
        SELECT count(*) AS matched FROM visits JOIN guesses
          ON visits.resident_id = tds_pseudonym(g)""")
    assert data["matched"] == [0]
    # ... while the same function still gives the merchant stable pseudonyms of its own.
    again = output(home, people, grant_id,
                   "SELECT tds_pseudonym('x') = tds_pseudonym('x') AS same", "o2")
    assert again["same"] == [True]


def test_the_person_key_is_suggested_at_registration_and_can_be_changed(home, people, visits_file):
    register(home, people.provider, visits_file, level="L3")
    with home.store.read() as s:
        assert datasets.get(s, "visits").latest.person_key() == "resident_id"
    with home.store.transaction() as s:
        version = datasets.classify(s, people.provider, "visits", person_key="mobile")
        assert version.person_key() == "mobile"
    with home.store.transaction() as s:  # none: each row is its own contributor
        assert datasets.classify(s, people.provider, "visits", person_key="").person_key() is None
    with refused(home, "no column"), home.store.transaction() as s:
        datasets.classify(s, people.provider, "visits", person_key="nosuch")
    # A new version keeps the provider's choice.
    register(home, people.provider, visits_file, level="L3")
    with home.store.read() as s:
        assert datasets.get(s, "visits").latest.person_key() is None
