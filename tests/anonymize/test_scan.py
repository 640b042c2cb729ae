"""Column scans: vectorized answers equal the recognizers run value by value; the benchmark's
mixed table is classified right, decoys included."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from anonymize.recognizers import detect
from anonymize.scan import entity_hits, normalize, recognizers, scan_column, scan_table
from service import demo_data
from synth.identifiers import DECOYS, GENERATORS

MAKERS = list(GENERATORS.values()) + list(DECOYS.values())
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
NOISE = "0123456789 -+.:@/xXeEDF粤京省市区路号张伟患者电话，。"


def reference(values: list[str]) -> Counter[str]:
    hits: Counter[str] = Counter()
    for value in values:
        hits.update(detect(normalize(value), recognizers()))
    return hits


@st.composite
def cell(draw: st.DrawFn) -> str:
    rng = random.Random(draw(st.integers(0, 2**32)))
    kind = draw(st.sampled_from(["identifier", "embedded", "two", "noise", "fullwidth", "cut"]))
    value = rng.choice(MAKERS)(rng)
    if kind == "embedded":
        return f"{draw(st.text(NOISE, max_size=6))}{value}{draw(st.text(NOISE, max_size=6))}"
    if kind == "two":
        return f"{value}，{rng.choice(MAKERS)(rng)}"
    if kind == "noise":
        return draw(st.text(NOISE, max_size=30))
    if kind == "fullwidth":
        return f" {value.translate(FULLWIDTH)} "
    if kind == "cut":
        return value[: rng.randrange(1, len(value) + 1)]
    return value


@settings(max_examples=150, deadline=None)
@given(values=st.lists(cell(), min_size=1, max_size=40))
def test_vectorized_hits_equal_recognizers_value_by_value(values):
    counts = Counter(values)
    distinct = list(counts)
    hits = entity_hits(pa.array(distinct), np.array([counts[v] for v in distinct]))
    assert hits == reference(values)


def test_the_benchmark_table_is_classified_right_and_no_decoy_gets_an_entity():
    table = demo_data.scan_table(3000, seed=11)
    scans = {s.name: s for s in scan_table(table, sample_rows=None, min_share=0.3)}
    assert {name: s.entity for name, s in scans.items()} == demo_data.SCAN_COLUMNS
    assert all(s.scanned == 3000 for name, s in scans.items() if name != "amount")
    assert scans["amount"].scanned == 0  # floating-point numbers hold no identifiers


def test_hits_count_every_entity_not_only_the_dominant_one():
    values = ["13812345678"] * 6 + ["zhang@example.com"] * 3 + ["无"]
    scan = scan_column("contact", pa.chunked_array([pa.array([*values, None])]), None, 0.5)
    assert scan.entity == "CN_MOBILE" and scan.scanned == 10
    assert scan.hits == {"CN_MOBILE": 6, "EMAIL_ADDRESS": 3}
    assert scan.fraction == 0.6


def test_integer_and_dictionary_columns_are_scanned():
    mobiles = pa.array([13812345678, 13987654321, 15011112222], pa.int64())
    assert scan_column("m", mobiles, None, 0.3).entity == "CN_MOBILE"
    names = pa.array(["张伟", "王芳", "张伟"]).dictionary_encode()
    assert scan_column("n", names, None, 0.3).entity == "PERSON"


def test_a_sample_scans_evenly_spaced_values():
    table = pa.table({"v": ["13812345678"] * 500 + ["无"] * 500})
    scan = scan_table(table, sample_rows=100)[0]
    assert scan.scanned == 100 and scan.hits == {"CN_MOBILE": 50}


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.one_of(
    st.text("0123456789X", min_size=15, max_size=18),
    st.builds(lambda seed: GENERATORS["CN_RESIDENT_ID"](random.Random(seed)), st.integers()),
    st.builds(lambda seed: GENERATORS["CN_USCC"](random.Random(seed)), st.integers()),
    st.builds(lambda seed: GENERATORS["CN_BANK_CARD"](random.Random(seed)), st.integers()),
    st.text("0123456789ABCDEFGHJKLMNPQRTUWXY -", min_size=13, max_size=21)), max_size=30))
def test_check_character_kernels_equal_the_per_value_checks(values):
    from anonymize import checksums, columnwise
    array = pa.array(values, pa.string())
    assert columnwise.resident_id_valid(array).tolist() == \
        [checksums.resident_id_valid(v) for v in values]
    assert columnwise.uscc_valid(array).tolist() == [checksums.uscc_valid(v) for v in values]
    digits = [v.replace(" ", "").replace("-", "") for v in values]
    assert columnwise.luhn_valid(array, 13, 19).tolist() == \
        [13 <= len(d) <= 19 and checksums.luhn_valid(d) for d in digits]


def test_commands_that_do_not_scan_do_not_load_presidio_or_torch():
    import subprocess
    import sys
    program = ("import sys\nimport service.api.app, sandbox.runner, catalog.datasets\n"
               "print(sorted(m for m in ('presidio_analyzer', 'spacy', 'torch', 'sdv') "
               "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_column_scan_does_not_load_presidio_spacy_or_torch():
    """`tds scan` of a small file starts in under a second: the column scan applies the
    recognizers itself and leaves Presidio's engine (spaCy, and through thinc, PyTorch) unloaded,
    unless a value that looks like an IBAN needs Presidio's check."""
    import subprocess
    import sys
    program = ("import sys\nimport pyarrow as pa\nfrom anonymize.scan import scan_table\n"
               "t = pa.table({'id': ['11010519491231002X'] * 50, 'n': ['张伟'] * 50})\n"
               "print([s.entity for s in scan_table(t, sample_rows=None)])\n"
               "print(sorted(m for m in ('presidio_analyzer', 'spacy', 'torch') "
               "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["['CN_RESIDENT_ID', 'PERSON']", "[]"]
