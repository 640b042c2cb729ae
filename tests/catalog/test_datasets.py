"""Registering datasets: formats, versions, scans, and every bad input refused cleanly."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.users import add_user
from catalog import datasets, search
from policies import OPERATOR
from service import demo_data
from tests.conftest import register
from tests.helpers import read_stored, refused


def test_register_parquet_stores_an_immutable_version_with_hash_schema_and_scan(home, people,
                                                                                visits_file):
    info = register(home, people.provider, visits_file)
    assert info["registration_no"].startswith("DR-")
    assert info["rows"] == 400 and info["version"] == 1
    assert [c["name"] for c in info["schema"]][:3] == ["visit_id", "patient_name", "resident_id"]
    entities = {c["name"]: c["entity"] for c in info["pii"]}
    assert entities["resident_id"] == "CN_RESIDENT_ID"
    assert entities["mobile"] == "CN_MOBILE"
    assert entities["patient_name"] == "PERSON"
    assert entities["diagnosis"] is None and entities["district"] is None
    assert info["suggested_level"] == "L3"
    stored = home.root / "datasets" / "visits" / "v1.parquet"
    assert read_stored(home, stored).num_rows == 400
    # The catalog entry carries metadata only: no real value of the file appears in it.
    real = pq.read_table(visits_file).column("resident_id")[0].as_py()
    assert real not in str(info)


def test_registering_again_creates_a_new_version(home, people, visits_file):
    first = register(home, people.provider, visits_file)
    second = register(home, people.provider, visits_file)
    assert second["version"] == 2
    assert second["registration_no"] == first["registration_no"]
    assert [v["version"] for v in second["versions"]] == [1, 2]


@pytest.mark.parametrize("encoding,delimiter", [("utf-8", ","), ("gb18030", ","),
                                                ("gb18030", ";"), ("utf-8", "\t")])
def test_csv_in_utf8_and_gb18030_with_detected_delimiter(home, people, tmp_path, encoding,
                                                         delimiter):
    table = demo_data.enterprises(50, seed=3)
    path = tmp_path / "enterprises.csv"
    demo_data.write(table, path, encoding)
    if delimiter != ",":
        path.write_bytes(path.read_bytes().replace(b",", delimiter.encode()))
    info = register(home, people.provider, path, name="enterprises", level="L2")
    assert info["rows"] == 50
    assert [c["name"] for c in info["schema"]] == table.column_names
    assert {c["name"]: c["entity"] for c in info["pii"]}["uscc"] == "CN_USCC"


def _bad(tmp_path: Path, kind: str) -> Path:
    if kind == "wrong type":
        path = tmp_path / "data.xlsx"
        path.write_bytes(b"PK\x03\x04 not really")
    elif kind == "corrupt parquet":
        path = tmp_path / "data.parquet"
        path.write_bytes(b"PAR1" + b"\x00garbage" * 10)
    elif kind == "empty csv":
        path = tmp_path / "data.csv"
        path.write_text("")
    elif kind == "header only":
        path = tmp_path / "data.csv"
        path.write_text("a,b\n")
    elif kind == "binary csv":
        path = tmp_path / "data.csv"
        path.write_bytes(b"\x00\x01\x02" * 100)
    elif kind == "duplicate columns":
        path = tmp_path / "data.csv"
        path.write_text("a,a\n1,2\n")
    else:
        path = tmp_path / "missing.csv"
    return path


@pytest.mark.parametrize("kind,message", [
    ("wrong type", "unsupported file type"), ("corrupt parquet", "not a readable Parquet"),
    ("empty csv", "empty"), ("header only", "no rows"), ("binary csv", "binary"),
    ("duplicate columns", "duplicate column"), ("missing", "cannot read|no such file"),
])
def test_bad_files_are_refused_and_change_nothing(home, people, tmp_path, kind, message):
    path = _bad(tmp_path, kind)
    with refused(home, message, "invalid"):
        register(home, people.provider, path)


@pytest.mark.parametrize("name", ["../etc", "a'b", "Visits", "x\x00y", "a" * 64, "", "数据",
                                  "drop table;", "a\u200bb"])
def test_hostile_dataset_names_are_refused(home, people, visits_file, name):
    with refused(home, "dataset name"):
        register(home, people.provider, visits_file, name=name)


@pytest.mark.parametrize("title", ["\x1b[31mred", "a\u202eb", "x" * 201, "  "])
def test_hostile_titles_are_refused(home, people, visits_file, title):
    with refused(home, "title"), home.store.transaction() as s:
        datasets.register(s, people.provider, home.policy, home.data, visits_file,
                          datasets.Registration("visits", title, "health", "L3", "open"))


def test_wrong_level_or_attribute_is_refused(home, people, visits_file):
    with refused(home, "level must be"), home.store.transaction() as s:
        datasets.register(s, people.provider, home.policy, home.data, visits_file,
                          datasets.Registration("visits", "t", "health", "L9", "open"))
    with refused(home, "attribute must be"), home.store.transaction() as s:
        datasets.register(s, people.provider, home.policy, home.data, visits_file,
                          datasets.Registration("visits", "t", "health", "L1", "secret"))


def test_another_providers_dataset_name_is_refused(home, people, visits_file):
    register(home, people.provider, visits_file)
    with home.store.transaction() as s:
        other = add_user(s, OPERATOR, "provider2", "provider")[0].actor()
    with refused(home, "belongs to another provider", "conflict"):
        register(home, other, visits_file)


def test_oversized_upload_is_refused(home, people, visits_file):
    small = home.policy.changed("catalog", max_upload_bytes=100)
    with refused(home, "policy allows 100"), home.store.transaction() as s:
        datasets.register(s, people.provider, small, home.data, visits_file,
                          datasets.Registration("visits", "t", "health", "L1", "open"))


def test_only_providers_and_admins_register(home, people, visits_file):
    for actor in (people.merchant, people.reviewer):
        with refused(home, "needs the role", "forbidden"):
            register(home, actor, visits_file)


def test_nested_columns_are_refused(home, people, tmp_path):
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"a": [[1, 2], [3]]}), path)
    with refused(home, "nested type"):
        register(home, people.provider, path)


def test_search_matches_words_and_treats_wildcards_literally(home, people, visits_file):
    register(home, people.provider, visits_file, name="visits")  # title 门诊记录
    with home.store.read() as s:
        def found(text):
            return [d.name for d in datasets.list_datasets(s, search=text)]

        assert found("门诊") == ["visits"] and found("VISIT") == ["visits"]
        assert found("DR-") == ["visits"]  # registration number
        assert found("%") == [] and found("_") == [] and found("\\") == []
        assert found("门诊") == found("  门诊 ")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
# Letters of the dataset's own words, upper and lower case, and LIKE's wildcards.
@given(text=st.text(alphabet=list("visVIStDR-02门诊记录 %_\\"), max_size=8))
def test_search_finds_exactly_the_datasets_holding_every_word_of_the_text(home, people, visits_file,
                                                                         text):
    with home.store.read() as s:
        registered = datasets.list_datasets(s)
    if not registered:
        register(home, people.provider, visits_file, name="visits")
    with home.store.read() as s:
        (dataset,) = datasets.list_datasets(s)
        fields = [dataset.name, dataset.title, dataset.description, dataset.registration_no,
                  dataset.department, dataset.domain, *dataset.latest.column_names,
                  *(dataset.field_names or {}).values()]
        names = [d.name for d in datasets.list_datasets(s, search=text)]
    wanted = search.words(text)
    haystack = " ".join(fields).lower()
    expected = not text.strip() or (bool(wanted) and all(w in haystack for w in wanted))
    assert names == (["visits"] if expected else [])
