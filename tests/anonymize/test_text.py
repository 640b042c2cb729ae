"""Free text: Presidio's anonymizer replaces what our offline analyzer finds."""

from __future__ import annotations

import pyarrow as pa
import pytest

from anonymize.errors import OperatorError
from anonymize.text import redact, redact_text

NOTE = "患者张伟，身份证号11010519491231002X，手机13812345678，邮箱zw@example.com。"


def test_identifiers_are_replaced_by_their_type():
    assert redact_text(NOTE) == "患者<PERSON>，身份证号<CN_RESIDENT_ID>，手机<CN_MOBILE>，" \
                                "邮箱<EMAIL_ADDRESS>。"
    assert redact_text("今日门诊量正常。") == "今日门诊量正常。"


def test_pseudonym_tags_are_stable_under_one_key_and_differ_across_keys():
    one = redact_text(NOTE, "pseudonym", b"a" * 32)
    assert "13812345678" not in one and "<CN_MOBILE:" in one
    assert redact_text(NOTE, "pseudonym", b"a" * 32) == one
    assert redact_text(NOTE, "pseudonym", b"b" * 32) != one


def test_columns_are_redacted_value_by_value_with_nulls_kept():
    out = redact(pa.array(["手机13812345678", None, "手机13812345678"])).to_pylist()
    assert out == ["手机<CN_MOBILE>", None, "手机<CN_MOBILE>"]


@pytest.mark.parametrize("mode,key", [("erase", None), ("pseudonym", None), ("pseudonym", b"x")])
def test_bad_modes_and_keys_are_refused(mode, key):
    with pytest.raises(OperatorError):
        redact_text(NOTE, mode, key)


def test_the_analyzer_and_anonymizer_work_with_the_network_cut_off():
    """A fresh process where any socket use fails: building the engines, segmenting Chinese
    and redacting must not try to download anything (models, suffix lists, dictionaries)."""
    from tests.helpers import run_offline

    done = run_offline(
        "from anonymize.text import redact_text\n"
        "print(redact_text('患者张伟，邮箱zw@example.com，网址https://www.example.cn/a，护照E12345678'))",
        timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "患者<PERSON>，邮箱<EMAIL_ADDRESS>，网址<URL>，护照<CN_PASSPORT>"
