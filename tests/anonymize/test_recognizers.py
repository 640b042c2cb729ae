"""Recognizers: valid identifiers found, corrupted check characters and decoys not."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from anonymize.analyzer import analyze_text
from anonymize.checksums import luhn_valid, resident_id_valid, uscc_valid
from anonymize.recognizers import detect
from anonymize.scan import recognizers
from service import demo_data


def found(value: str) -> set[str]:
    return detect(value, recognizers())


@given(seed=st.integers(0, 10**6),
       born=st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2020, 12, 31)))
def test_generated_resident_ids_validate_and_one_changed_digit_does_not(seed, born):
    rng = random.Random(seed)
    rid = demo_data.resident_id(rng, "440106", born)
    assert resident_id_valid(rid)
    assert found(rid) == {"CN_RESIDENT_ID"}
    position = rng.randrange(14, 17)  # sequence digits: the date stays plausible
    digit = str((int(rid[position]) + rng.randrange(1, 10)) % 10)
    assert not resident_id_valid(rid[:position] + digit + rid[position + 1:])


@given(seed=st.integers(0, 10**6))
def test_uscc_and_bank_cards_check_characters(seed):
    rng = random.Random(seed)
    code = demo_data.uscc(rng, "440106")
    assert uscc_valid(code) and found(code) == {"CN_USCC"}
    card = demo_data.bank_card(rng)
    # An 18-digit card can also be a well-formed USCC (about 1 in 300); precedence then says
    # USCC, and a column scan still classifies the column by its majority.
    assume(not uscc_valid(card))
    assert luhn_valid(card) and found(card) == {"CN_BANK_CARD"}
    wrong = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert not luhn_valid(wrong) and "CN_BANK_CARD" not in found(wrong)


@pytest.mark.parametrize("value,entity", [
    ("13812345678", "CN_MOBILE"), ("+86 138-1234-5678", "CN_MOBILE"),
    ("020-87654321", "CN_LANDLINE"), ("粤B12345", "CN_LICENSE_PLATE"),
    ("粤BD12345", "CN_LICENSE_PLATE"), ("zhang.wei@example.com", "EMAIL_ADDRESS"),
    ("广东省广州市天河区天河路385号", "CN_ADDRESS"), ("张伟", "PERSON"), ("欧阳娜娜", "PERSON"),
])
def test_identifiers_are_recognized(value, entity):
    assert entity in found(value)


@pytest.mark.parametrize("decoy", [
    "高血压", "天河区", "ORD20250101123456", "110105194912310021", "12345678901",
    "2025-01-01", "内科", "粤b12345",
])
def test_decoys_get_no_entity(decoy):
    assert found(decoy) == set()


def test_a_resident_id_that_passes_luhn_is_still_a_resident_id():
    rng = random.Random(5)
    while True:
        rid = demo_data.resident_id(rng, "620102", dt.date(1980, 5, 17))
        if rid.isdigit() and luhn_valid(rid):
            break
    assert found(rid) == {"CN_RESIDENT_ID"}


def test_identifiers_in_chinese_free_text_are_found_offline():
    results = analyze_text("患者张伟，身份证号11010519491231002X，手机13812345678，已就诊。")
    kinds = {r.entity_type for r in results}
    assert {"CN_RESIDENT_ID", "CN_MOBILE", "PERSON"} <= kinds


@pytest.mark.parametrize("value,expected", [
    ("护照号码：E12345678。", {"CN_PASSPORT"}),
    ("EA1234567", {"CN_PASSPORT"}),
    ("外交护照 DE1234567", {"CN_PASSPORT"}),
    ("订单号E2024010112", set()),  # nine digits: an order number, not a passport
    ("序列号G12345678X9", set()),
    ("登录IP 192.168.1.20 成功", {"IP_ADDRESS"}),
    ("来源 fe80::1ff:fe23:4567:890a", {"IP_ADDRESS"}),
    ("999.1.1.1", set()),
    ("时间 12:30:45", set()),
    ("1.2.3", set()),
])
def test_passports_and_ip_addresses(value, expected):
    assert detect(value, recognizers()) == expected


@pytest.mark.parametrize("text,entity,expected", [
    ("患者张伟，已就诊。", "PERSON", True),
    ("地址：广州市天河区和平路12号", "PERSON", False),  # 和平 after 区 is a street, not a name
    ("护照号码：E12345678。", "CN_PASSPORT", True),
    ("订单E12345678已发货", "CN_PASSPORT", False),  # no check character, no context: too weak
])
def test_context_words_decide_weak_matches_in_free_text(text, entity, expected):
    assert (entity in {r.entity_type for r in analyze_text(text)}) is expected


def test_context_words_raise_the_score():
    bare = analyze_text("编号 11010519491231002X")
    told = analyze_text("身份证号 11010519491231002X")
    assert bare and told and told[0].score >= bare[0].score
    plain = {r.entity_type: r.score for r in analyze_text("E12345678", threshold=0.0)}
    context = {r.entity_type: r.score for r in analyze_text("护照 E12345678", threshold=0.0)}
    assert context["CN_PASSPORT"] > plain["CN_PASSPORT"]
