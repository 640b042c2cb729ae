"""The console's words for the domain's codes, the check findings in the reader's language,
and the language a first visit gets."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egress.checks import CheckResult
from egress.findings import FINDINGS, text
from service.api.app import create_app
from service.web import i18n, words
from tests.service.web_helpers import console, set_passwords


@pytest.fixture
def zh():
    token = i18n.current.set("zh_CN")
    yield
    i18n.current.reset(token)


@pytest.fixture
def en():
    token = i18n.current.set("en")
    yield
    i18n.current.reset(token)


@pytest.mark.parametrize(("header", "lang"), [
    ("en-US,en;q=0.9,zh-CN;q=0.8", "en"), ("zh-TW", "zh_CN"), ("fr-FR, en;q=0.5", "en"),
    ("en;q=0, zh;q=0.3", "zh_CN"), ("zh;q=0.4, en;q=0.6", "en"), ("fr", None), ("", None),
    (None, None), ("en;q=abc", None), ("*", None),
])
def test_the_browsers_preferred_language_that_the_console_speaks(header, lang):
    assert i18n.accepted(header) == lang


@given(st.text(max_size=300))
def test_any_accept_language_header_gives_a_language_or_none(header):
    assert i18n.accepted(header) in (None, "zh_CN", "en")


@pytest.fixture
def app(home, people):
    set_passwords(home, *people.tokens)
    return create_app(home, workers=0)


def test_a_first_visit_speaks_the_browsers_language_until_the_user_chooses(app):
    client = console(app, "merchant")
    english = client.get("/catalog", headers={"Accept-Language": "en-GB,en;q=0.8"}).text
    assert '<html lang="en">' in english and "Catalog of public data" in english
    assert '<html lang="zh-CN">' in client.get("/catalog").text  # the policy's default
    client.cookies.set("tds_lang", "zh_CN")  # a choice beats the browser
    assert '<html lang="zh-CN">' in client.get(
        "/catalog", headers={"Accept-Language": "en"}).text


def test_the_language_switch_comes_back_to_the_same_page_with_its_query(app):
    client = console(app, "merchant")
    page = client.get("/catalog?q=%E9%97%A8%E8%AF%8A&level=L3").text
    link = re.search(r'href="(/lang/en\?next=[^"]+)"', page).group(1)
    switched = client.get(html.unescape(link), follow_redirects=False)
    assert switched.headers["location"] == "/catalog?q=%E9%97%A8%E8%AF%8A&level=L3"
    assert "门诊" in client.get(switched.headers["location"]).text  # the search is kept


def test_entity_codes_read_as_words_in_each_language(zh):
    assert str(words.entity("CN_RESIDENT_ID")) == "居民身份证号"
    assert str(words.entity("PERSON")) == "姓名"
    token = i18n.current.set("en")
    try:
        assert str(words.entity("CN_RESIDENT_ID")) == "Resident ID"
    finally:
        i18n.current.reset(token)


def test_an_unknown_code_is_shown_as_data_not_as_a_made_up_word(zh):
    assert str(words.entity("CN_NEW_THING")) == '<span translate="no">CN_NEW_THING</span>'
    assert str(words.domain("fisheries")) == '<span translate="no">fisheries</span>'
    assert str(words.domain("health")) == "卫生健康"
    assert str(words.entity(None)) == "—"


@pytest.mark.parametrize(("arrow", "word"), [
    ("int64", "整数"), ("uint8", "整数"), ("double", "小数"), ("decimal128(10, 2)", "小数"),
    ("string", "文本"), ("large_string", "文本"), ("date32[day]", "日期"),
    ("timestamp[us, tz=Asia/Shanghai]", "日期时间"), ("bool", "是/否"),
])
def test_arrow_types_read_as_an_analysts_words(zh, arrow, word):
    shown = str(words.arrow_type(arrow))
    assert f">{word}<" in shown and f'data-type="{arrow}"' in shown


def test_ledger_actions_and_subjects_read_as_words(zh):
    assert str(words.action("egress.released")) == "已出域"
    assert str(words.node("release:1")) == '发布包 <span translate="no">1</span>'
    assert str(words.node("dataset:hospital_visits")) == \
        '数据集 <span translate="no">hospital_visits</span>'


def test_a_finding_reads_in_chinese_with_its_names_marked_as_data(zh):
    check = CheckResult("raw_exposure", "fail", "raw.not_k_anonymous",
                        {"levels": "L3", "k": 5, "columns": "age, district"}).as_dict()
    shown = str(words.finding(check))
    assert shown == ('<span translate="no">L3</span> 级数据的明细产出在 '
                     '<span translate="no">age, district</span> 上未达到策略要求的 '
                     '<span translate="no">5</span>-匿名')
    assert check["message"] == ("row-level output of L3 data is not 5-anonymous on age, "
                                "district, as the policy needs")


def test_a_finding_never_lets_its_arguments_write_markup(zh):
    check = CheckResult("scope", "review", "scope.other_product",
                        {"product": "<script>x</script>", "products": "'a'"}).as_dict()
    assert "<script>" not in str(words.finding(check))


def test_disclosure_findings_name_the_rules_in_the_readers_words(zh):
    check = {"code": "disclosure.flagged", "args": {"summary": "threshold: 2"},
             "details": {"counts": {"threshold": 2, "p_ratio": 1}}}
    shown = str(words.finding(check))
    assert "threshold" not in shown and "p_ratio" not in shown and "2" in shown


def test_a_request_checked_before_findings_had_codes_keeps_its_message(en):
    assert str(words.finding({"message": "an old finding"})) == \
        '<span translate="no">an old finding</span>'


@pytest.mark.parametrize("code", sorted(FINDINGS))
def test_every_finding_has_chinese_words_that_take_the_same_arguments(code):
    zh = i18n.catalog("zh_CN").gettext(FINDINGS[code])
    assert zh != FINDINGS[code], f"{code} is not translated"
    names = {part.split(")")[0] for part in FINDINGS[code].split("%(")[1:]}
    assert {part.split(")")[0] for part in zh.split("%(")[1:]} == names
    args = dict.fromkeys(names, "x")
    assert text(code, args) and (zh % args if names else zh)


def test_identifiers_in_policy_help_are_set_as_code():
    shown = str(words.with_codes("contributors a cell needs (ACRO safe_threshold); see "
                                 "catalog.max_upload_bytes"))
    assert "<code>safe_threshold</code>" in shown and \
        "<code>catalog.max_upload_bytes</code>" in shown and "<code>ACRO" not in shown


def _fields(template: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"(?<!\{)\{(\w+)[!:}]", template)}


def test_every_error_translation_fills_the_same_fields():
    from babel.messages.pofile import read_po

    from service.web import catalogs

    with catalogs.po_path("zh_CN").open("rb") as handle:
        po = read_po(handle, locale="zh_CN")
    broken = [m.id for m in po if isinstance(m.id, str) and isinstance(m.string, str)
              and m.string and "{" in m.id and _fields(m.id) != _fields(m.string)]
    assert broken == []


def test_errors_read_in_the_readers_language_with_their_words(zh):
    from catalog.errors import InvalidInput, NotFound
    from catalog.names import identifier
    from policies import Actor, Role
    from policies.permissions import Action, permit

    assert str(i18n.Said(NotFound("no job {job_id}", job_id=7))) == "没有作业 7"
    with pytest.raises(InvalidInput) as empty:
        identifier("", "output name", 63)
    assert str(i18n.Said(empty.value)) == "输出名称不能为空"
    with pytest.raises(Exception) as role:
        permit(Actor(1, "p", Role.PROVIDER), Action.JOB_SUBMIT)
    assert str(i18n.Said(role.value)) == "此操作需要以下角色：数据商；您是数据提供方"
    # A translation that does not fit its fields never hides the error.
    odd = NotFound("no job {job_id}", job_id=7)
    odd.params = {"other": 1}
    assert str(i18n.Said(odd)) == odd.message


def test_api_problems_carry_the_template_and_its_fields(app, people):
    from fastapi.testclient import TestClient

    client = TestClient(app)
    answer = client.get("/api/v1/jobs/424242",
                        headers={"Authorization": f"Bearer {people.tokens['merchant']}"})
    body = answer.json()
    assert answer.status_code == 404 and body["detail"] == "no job 424242"
    assert body["code"] == "no job {job_id}" and body["params"] == {"job_id": 424242}
    page = console(app, "merchant").get("/jobs/424242")
    assert page.status_code == 404 and "没有作业 424242" in page.text


def test_every_domain_error_class_has_its_sentences_extracted():
    import importlib
    import pkgutil

    from policies.errors import DomainError
    from service.web import catalogs

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for package in catalogs.ERROR_PACKAGES:
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__,
                                          package + "."):
            if "migrations" not in info.name and not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    templated = {c.__name__ for c in subclasses(DomainError)
                 if c.__init__ is DomainError.__init__
                 and c.__module__.split(".")[0] in catalogs.ERROR_PACKAGES}
    # Of the policies package, permissions and lifecycle raise these (policy-file errors,
    # PolicyError, are the operator's and stay English).
    assert templated | {"Forbidden", "MoveRefused"} <= set(catalogs.ERROR_CLASSES)
