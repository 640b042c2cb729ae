"""Merchants find datasets by the words of their titles, descriptions, departments and
Chinese field names, several words at once, best matches first."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import datasets, search
from catalog.datasets import Registration
from service import demo_data
from tests.helpers import refused


@pytest.fixture
def catalog(home, people, tmp_path):
    tables = (("hospital_visits", "广州市门诊就诊记录", "health", demo_data.hospital_visits(200, 1)),
              ("enterprise_registry", "广州市企业登记信息", "market", demo_data.enterprises(200, 2)),
              ("traffic_records", "广州市卡口过车记录", "transport", demo_data.traffic(200, 3)))
    for name, title, domain, table in tables:
        department, frequency, fields = demo_data.DESCRIBED[name]
        path = demo_data.write(table, tmp_path / f"{name}.parquet")
        with home.store.transaction() as s:
            datasets.register(s, people.provider, home.policy, home.data, path, Registration(
                name, title, domain, "L2", "open", f"{title}，演示数据", department, frequency,
                fields))
    return home


def found(home, text):
    with home.store.read() as s:
        return [d.name for d in datasets.list_datasets(s, search=text)]


@pytest.mark.parametrize("text,expected", [
    ("门诊", ["hospital_visits"]),                       # title
    ("市场监督", ["enterprise_registry"]),               # department
    ("法定代表人", ["enterprise_registry"]),             # Chinese field name
    ("plate", ["traffic_records"]),                     # column name
    ("门诊费用", ["hospital_visits"]),                   # jieba: 门诊 (title) + 费用 (field)
    ("行政区 车速", ["traffic_records"]),                 # every word must occur
    ("广州市", ["enterprise_registry", "hospital_visits", "traffic_records"]),
    ("企业 门诊", []),
    ("100%_", []),                                      # wildcards are literal
])
def test_search_matches_every_word_anywhere_in_the_description(catalog, text, expected):
    assert sorted(found(catalog, text)) == sorted(expected)


def test_titles_rank_before_field_names(catalog, home, people, tmp_path):
    # "行政区" is a field name of all three; a dataset titled with it comes first.
    path = demo_data.write(demo_data.traffic(50, 9), tmp_path / "x.parquet")
    with home.store.transaction() as s:
        datasets.register(s, people.provider, home.policy, home.data, path, Registration(
            "district_stats", "行政区统计", "transport", "L1", "open"))
    assert found(home, "行政区")[0] == "district_stats"


def test_field_names_are_checked_and_kept_across_versions(catalog, home, people, tmp_path):
    path = demo_data.write(demo_data.traffic(50, 4), tmp_path / "t.parquet")
    with refused(home, "has no column 'nope' to name"), home.store.transaction() as s:
        datasets.register(s, people.provider, home.policy, home.data, path, Registration(
            "traffic_records", "广州市卡口过车记录", "transport", "L2", "open",
            field_names={"nope": "无"}))
    with refused(home, "update frequency must be one of"), home.store.transaction() as s:
        datasets.register(s, people.provider, home.policy, home.data, path, Registration(
            "traffic_records", "t", "transport", "L2", "open", update_frequency="hourly"))
    with home.store.transaction() as s:
        version = datasets.register(s, people.provider, home.policy, home.data, path,
                                    Registration("traffic_records", "广州市卡口过车记录",
                                                 "transport", "L2", "open",
                                                 field_names={"plate": "车牌"}))
        assert version.dataset.field_names["plate"] == "车牌"
        assert version.dataset.field_names["road"] == "道路名称"  # kept from version 1
    with home.store.transaction() as s:
        datasets.classify(s, people.provider, "traffic_records",
                          field_names={"road": "", "speed_kmh": "行驶速度"})
    assert found(home, "行驶速度") == ["traffic_records"] and found(home, "道路名称") == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_query_gives_bounded_words_without_separators(text):
    words = search.words(text)
    assert len(words) <= search.MAX_WORDS and len(set(words)) == len(words)
    assert all(w and w == w.strip() and w == w.lower() for w in words)
