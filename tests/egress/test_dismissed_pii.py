"""A false PII hit the provider dismissed at registration (金融 read as a person's name) does
not fail egress of that column, and registering the file again keeps the dismissal; a column
that also draws on a column nobody cleared keeps its hits."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog import datasets
from tests.conftest import apply, approve, register
from tests.egress.test_egress import ask, job, verdicts

INDUSTRIES = ["金融", "制造", "金融", "零售", "金融", "物流"]  # 金融 reads as a name
CONTACTS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"]


@pytest.fixture
def firms(tmp_path):
    path = tmp_path / "firms.parquet"
    pq.write_table(pa.table({
        "industry": [INDUSTRIES[i % 6] for i in range(240)],
        "contact": [CONTACTS[i % 5] + CONTACTS[(i // 5) % 6][1] for i in range(240)],
        "revenue": [1000 + 37 * i for i in range(240)],
    }), path)
    return path


def grant(home, people, firms, dismiss: bool) -> int:
    register(home, people.provider, firms, name="firms", level="L2")
    if dismiss:
        with home.store.transaction() as s:
            datasets.classify(s, people.provider, "firms", {"industry": None})
    app_id = apply(home, people.merchant, name="firms",
                   columns=["industry", "contact", "revenue"])
    return approve(home, people.reviewer, app_id, "ok").grant.id


BY_INDUSTRY = "SELECT industry, count(*) AS firms FROM firms GROUP BY 1"


def test_the_scan_reads_industries_as_names_without_the_providers_word(home, people, firms):
    grant_id = grant(home, people, firms, dismiss=False)
    req = ask(home, people, job(home, people, grant_id, BY_INDUSTRY), sources=("firms",))
    assert verdicts(req)["personal_information"] == "fail"


def test_a_dismissed_false_hit_no_longer_fails_egress(home, people, firms):
    grant_id = grant(home, people, firms, dismiss=True)
    req = ask(home, people, job(home, people, grant_id, BY_INDUSTRY), sources=("firms",))
    check = next(c for c in req["checks"] if c["name"] == "personal_information")
    assert check["verdict"] == "pass", check
    assert check["details"]["dismissed"] == {"industry": ["PERSON"]}


def test_a_column_drawing_on_an_uncleared_column_keeps_its_hits(home, people, firms):
    grant_id = grant(home, people, firms, dismiss=True)
    mixed = ("SELECT CASE WHEN revenue > 0 THEN contact ELSE industry END AS label, "
             "count(*) AS firms FROM firms GROUP BY 1")
    req = ask(home, people, job(home, people, grant_id, mixed, "mixed"), sources=("firms",))
    check = next(c for c in req["checks"] if c["name"] == "personal_information")
    assert check["verdict"] == "fail" and "label" in check["columns"]


def test_registering_the_file_again_keeps_the_providers_classification(home, people, firms):
    register(home, people.provider, firms, name="firms", level="L2")
    with home.store.transaction() as s:
        datasets.classify(s, people.provider, "firms", {"industry": None})
    again = register(home, people.provider, firms, name="firms", level="L2")
    assert again["version"] == 2 and again["classification"] == "confirmed"
    tags = {t["name"]: t for t in again["column_tags"]}
    assert tags["industry"]["entity"] is None and tags["industry"]["suggested_entity"] == "PERSON"
    assert tags["contact"]["entity"] == "PERSON"


def test_a_new_suggestion_asks_the_provider_again(home, people, firms, tmp_path):
    register(home, people.provider, firms, name="firms", level="L2")
    with home.store.transaction() as s:
        datasets.classify(s, people.provider, "firms", {"industry": None})
    table = pq.read_table(firms).append_column(
        "mobile", pa.array([f"138{i:08d}" for i in range(240)]))
    changed = tmp_path / "firms2.parquet"
    pq.write_table(table, changed)
    again = register(home, people.provider, changed, name="firms", level="L2")
    assert again["classification"] == "suggested"
    tags = {t["name"]: t for t in again["column_tags"]}
    assert tags["industry"]["entity"] is None  # what the provider decided still stands
    assert tags["mobile"]["entity"] == "CN_MOBILE"
