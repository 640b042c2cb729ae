"""Privacy models agree with pyCANON: pinned figures on the Adult data, and a property test
against pyCANON's definitions written out in plain Python."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anonymize.privacy import PrivacyError, measure

ADULT = Path(__file__).parents[2].parent / "shared" / "data" / "adult" / "adult.csv"
ALL_QI = ["sex", "age", "race", "marital-status", "education", "native-country", "workclass",
          "occupation"]

# pyCANON 1.3.6 (pandas 2.3.3) on ../shared/data/adult/adult.csv, run in its own environment:
#   k_anonymity, l_diversity, entropy_l_diversity, t_closeness with [sensitive].
PYCANON = [
    (ALL_QI, "salary-class", 1, 1, 1, 0.7510775147536636),
    (["sex", "race", "marital-status"], "salary-class", 1, 1, 1, 0.7510775147536636),
    (["sex", "race"], "age", 87, 33, 27, 0.09193571485872032),
    (["workclass", "sex"], "education", 5, 3, 1, 0.5292310412660521),
]


@pytest.mark.parametrize("qi,sensitive,k,l_div,entropy_l,t", PYCANON)
def test_adult_figures_match_pycanon(qi, sensitive, k, l_div, entropy_l, t):
    report = measure(ADULT, qi, sensitive, k_min=10)
    assert (report["k"], report["l"], report["entropy_l"]) == (k, l_div, entropy_l)
    assert report["t"] == pytest.approx(t, abs=1e-12)


def test_all_quasi_identifiers_of_adult_give_k_1_and_the_risks():
    report = measure(ADULT, ALL_QI, None, k_min=5)
    assert report["rows"] == 30162 and report["k"] == 1
    classes = report["equivalence_classes"]
    assert report["risk"]["prosecutor"]["highest"] == 1.0
    assert report["risk"]["marketer"]["average"] == pytest.approx(classes / 30162)
    assert 0 < report["rows_below_k_min"] < 30162


def reference(rows: list[dict], qi: list[str], sensitive: str) -> tuple[int, int, float, float]:
    """pyCANON's k, l, e ** H (before its floor) and t, written out plainly."""
    classes: dict[tuple, list] = defaultdict(list)
    for row in rows:
        classes[tuple(row[q] for q in qi)].append(row[sensitive])
    values = sorted({row[sensitive] for row in rows})
    total = Counter(row[sensitive] for row in rows)
    p = [total[v] / len(rows) for v in values]
    numeric = all(isinstance(v, int) for v in values)
    k = min(len(c) for c in classes.values())
    l_div = min(len(set(c)) for c in classes.values())
    entropy = min(-sum((n / len(c)) * math.log(n / len(c)) for n in Counter(c).values())
                  for c in classes.values())
    t = 0.0
    for c in classes.values():
        counts = Counter(c)
        r = [counts[v] / len(c) - p[i] for i, v in enumerate(values)]
        if numeric:
            if len(values) < 2:
                continue
            cumulative, emd = 0.0, 0.0
            for x in r:
                cumulative += x
                emd += abs(cumulative)
            t = max(t, emd / (len(values) - 1))
        else:
            t = max(t, 0.5 * sum(abs(x) for x in r))
    return k, l_div, math.exp(entropy), t


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({
    "a": st.sampled_from(["x", "y", "z"]), "b": st.integers(0, 3),
    "s": st.sampled_from(["p", "q", "r", "s"]), "n": st.integers(0, 6)}), min_size=1, max_size=60),
    sensitive=st.sampled_from(["s", "n"]))
def test_models_follow_pycanon_definitions(rows, sensitive):
    table = pa.Table.from_pylist(rows)
    report = measure(table, ["a", "b"], sensitive, k_min=3)
    k, l_div, exp_h, t = reference(rows, ["a", "b"], sensitive)
    assert (report["k"], report["l"]) == (k, l_div)
    assert report["entropy_l_value"] == pytest.approx(exp_h)
    assert report["entropy_l"] == math.floor(round(exp_h, 9))
    assert report["t"] == pytest.approx(t, abs=1e-9)
    sizes = Counter((r["a"], r["b"]) for r in rows)
    assert report["equivalence_classes"] == len(sizes)
    assert report["rows_below_k_min"] == sum(n for n in sizes.values() if n < 3)


def test_uniform_classes_are_not_floored_below_their_entropy():
    table = pa.table({"g": ["a", "a", "b", "b"], "s": ["x", "y", "x", "y"]})
    assert measure(table, ["g"], "s")["entropy_l"] == 2  # pyCANON's float gives 1 here


def test_missing_values_form_their_own_class():
    table = pa.table({"g": ["a", None, "a"], "s": ["x", "y", "z"]})
    report = measure(table, ["g"], "s")
    assert report["k"] == 1 and report["equivalence_classes"] == 2


@pytest.mark.parametrize("qi,sensitive,message", [
    ([], None, "at least one"),
    (["sex", "sex"], None, "once"),
    (["sex"], "sex", "both"),
    (["nope"], None, "no column 'nope'"),
])
def test_bad_requests_are_refused_clearly(qi, sensitive, message):
    with pytest.raises(PrivacyError, match=message):
        measure(ADULT, qi, sensitive)


def test_unreadable_files_are_refused_clearly(tmp_path):
    with pytest.raises(PrivacyError, match="no such file"):
        measure(tmp_path / "missing.csv", ["a"])
    bad = tmp_path / "x.xlsx"
    bad.write_text("x")
    with pytest.raises(PrivacyError, match="only Parquet or CSV"):
        measure(bad, ["a"])
