"""PII recognizers: small recognizer classes in Presidio's shape, one registry, offline.

Each recognizer declares an entity, scored patterns, context words and a validation, as a
Presidio ``PatternRecognizer`` does. :mod:`anonymize.analyzer` hands them to Presidio's analyzer
engine for free text (context words raise scores there); column scans use :meth:`find` and the
vectorized :meth:`valid_many` directly, without the engine's per-call overhead. This module does
not import Presidio: importing it pulls in spaCy and, through thinc, PyTorch (about 1.5 s), which
a column scan never needs. Patterns never use ``\\b`` next to Chinese text (Chinese characters
are word characters); they use explicit lookarounds.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anonymize import checksums, columnwise
from anonymize.entities import ENTITIES
from anonymize.names_zh import COMPOUND_SURNAMES, GIVEN_CHARS, SINGLE_SURNAMES

_PROVINCE_ABBR = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTER = "A-HJ-NP-Z"


class TdsRecognizer:
    """A pattern recognizer whose matches are confirmed by :meth:`valid` when it can tell."""

    ENTITY: str = ""
    PATTERNS: tuple[tuple[str, str, float], ...] = ()
    CONTEXT: tuple[str, ...] = ()
    WHOLE_VALUE = False  # column scans: the whole cell must match (names), not a part of it
    # Flags shared by the Python patterns and their RE2 forms: ASCII makes \d mean 0-9 in both.
    FLAGS = re.IGNORECASE | re.ASCII
    VALID_RE2: str | None = None  # a whole value matching this RE2 pattern is certainly valid
    MATCH_IS_VALID = False  # every match of the patterns is valid: no check to run

    def __init__(self) -> None:
        self._compiled = [re.compile(regex, self.FLAGS) for _, regex, _ in self.PATTERNS]

    def valid(self, text: str) -> bool | None:
        """True: certainly this entity; False: not it; None: cannot tell (pattern score stays)."""
        return None

    def valid_many(self, values: pa.Array) -> np.ndarray:
        if self.MATCH_IS_VALID:
            return np.ones(len(values), dtype=bool)
        return self._valid_each(values)

    def _valid_each(self, values: pa.Array) -> np.ndarray:
        """:meth:`valid` over an array of values that each matched a pattern whole (None
        counts as valid). Values matching :attr:`VALID_RE2` need no Python; recognizers with
        a check character override this with a kernel."""
        out = np.ones(len(values), dtype=bool)
        rest = np.arange(len(values))
        if self.VALID_RE2:
            rest = np.flatnonzero(~pc.match_substring_regex(values, self.VALID_RE2)
                                  .to_numpy(zero_copy_only=False))
        if len(rest):
            out[rest] = [self.valid(v) is not False for v in values.take(pa.array(rest)).to_pylist()]
        return out

    @classmethod
    @cache
    def re2_search(cls) -> str:
        """An RE2 pattern (Arrow, DuckDB) matching exactly the values a pattern occurs in."""
        if cls.WHOLE_VALUE:
            return cls.re2_whole()
        return "(?i)" + "|".join(f"(?:{_re2(regex, anchored=False)})" for _, regex, _ in cls.PATTERNS)

    @classmethod
    @cache
    def re2_whole(cls) -> str:
        """An RE2 pattern matching values that are, whole, one match of a pattern."""
        return "(?i)^(?:" + "|".join(_re2(regex, anchored=True) for _, regex, _ in cls.PATTERNS) + ")$"

    def find(self, value: str) -> list[tuple[int, int]]:
        """Spans of validated matches in ``value``."""
        spans = []
        for regex in self._compiled:
            if self.WHOLE_VALUE:
                match = regex.fullmatch(value.strip())
                candidates = [match] if match else []
            else:
                candidates = regex.finditer(value)
            for match in candidates:
                if self.valid(match.group()) is not False:
                    spans.append(match.span())
        return spans


_LOOKBEHIND = re.compile(r"\(\?<!\[([^\]]*)\]\)")
_LOOKAHEAD = re.compile(r"\(\?!\[([^\]]*)\]\)")


def _re2(pattern: str, anchored: bool) -> str:
    """Our pattern in RE2 syntax. RE2 has no lookarounds: a character-class lookbehind becomes
    "start or a character outside the class" (the same cells match), and at the ends of an
    anchored pattern lookarounds are always true."""
    if anchored:
        pattern = _LOOKAHEAD.sub("", _LOOKBEHIND.sub("", pattern))
    else:
        pattern = _LOOKBEHIND.sub(lambda m: f"(?:^|[^{m.group(1)}])", pattern)
        pattern = _LOOKAHEAD.sub(lambda m: f"(?:[^{m.group(1)}]|$)", pattern)
    pattern = re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", pattern)
    if "(?<" in pattern or "(?!" in pattern or "(?=" in pattern:
        raise ValueError(f"pattern has a lookaround RE2 cannot express: {pattern[:60]}")
    return pattern


class CnResidentIdRecognizer(TdsRecognizer):
    ENTITY = "CN_RESIDENT_ID"
    PATTERNS = (
        ("cn_resident_id_18", r"(?<![0-9A-Za-z])[1-9]\d{16}[0-9Xx](?![0-9A-Za-z])", 0.4),
        ("cn_resident_id_15", r"(?<![0-9A-Za-z])[1-9]\d{14}(?![0-9A-Za-z])", 0.1),
    )
    CONTEXT = ("身份证", "身份证号", "公民身份号码", "证件号", "证件号码", "id", "identity")

    def valid(self, text: str) -> bool:
        return checksums.resident_id_valid(text)

    def valid_many(self, values: pa.Array) -> np.ndarray:
        return columnwise.resident_id_valid(values)


class CnUsccRecognizer(TdsRecognizer):
    ENTITY = "CN_USCC"
    PATTERNS = (
        ("cn_uscc", r"(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z])",
         0.3),
    )
    CONTEXT = ("统一社会信用代码", "信用代码", "社会信用代码", "营业执照", "uscc", "credit code")

    def valid(self, text: str) -> bool:
        return checksums.uscc_valid(text)

    def valid_many(self, values: pa.Array) -> np.ndarray:
        return columnwise.uscc_valid(values)


class LuhnCardRecognizer(TdsRecognizer):
    """Card numbers: DIGITS (fewest, most) digits, spaces and hyphens allowed, Luhn check."""

    DIGITS: tuple[int, int] = (13, 19)

    def valid(self, text: str) -> bool:
        digits = re.sub(r"[ -]", "", text)
        return self.DIGITS[0] <= len(digits) <= self.DIGITS[1] and checksums.luhn_valid(digits)

    def valid_many(self, values: pa.Array) -> np.ndarray:
        return columnwise.luhn_valid(values, *self.DIGITS)


class CnBankCardRecognizer(LuhnCardRecognizer):
    ENTITY = "CN_BANK_CARD"
    PATTERNS = (("cn_bank_card", r"(?<![0-9])[3-6]\d{3}(?:[ -]?\d{4}){2}[ -]?\d{4,7}(?![0-9])", 0.3),)
    CONTEXT = ("银行卡", "卡号", "银行账号", "账号", "借记卡", "信用卡", "card")

    DIGITS = (16, 19)


class CnMobileRecognizer(TdsRecognizer):
    ENTITY = "CN_MOBILE"
    PATTERNS = (
        ("cn_mobile", r"(?<![0-9+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![0-9])", 0.4),
    )
    CONTEXT = ("手机", "手机号", "移动电话", "联系电话", "电话", "联系方式", "mobile", "phone")
    MATCH_IS_VALID = True  # a match is 1[3-9] and nine digits, after 86 or 0086 at most

    def valid(self, text: str) -> bool:
        digits = re.sub(r"\D", "", text)
        if len(digits) > 11:
            digits = digits[-11:] if digits[:-11] in ("86", "0086") else ""
        return len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789"


class CnLandlineRecognizer(TdsRecognizer):
    ENTITY = "CN_LANDLINE"
    PATTERNS = (
        ("cn_landline", r"(?<![0-9])(?:\(?0[1-9]\d{1,2}\)?[ -]?)[2-9]\d{6,7}(?:-\d{1,5})?(?![0-9])", 0.3),
    )
    CONTEXT = ("电话", "座机", "固话", "联系电话", "办公电话", "tel", "telephone")

    # Two-digit areas (010, 02x) with 7-8 digits, or three-digit areas with 7-8 digits.
    VALID_RE2 = (r"^(?:\(?0(?:10|2\d)\)?|\(?0[3-9]\d{2}\)?)[ -]?[2-9]\d{6,7}(?:-\d{1,5})?$")

    def valid(self, text: str) -> bool | None:
        digits = re.sub(r"\D", "", re.sub(r"-\d{1,5}$", "", text))  # without the extension
        area = re.match(r"\(?0(\d{2,3})", text)
        if not area:
            return False
        # Two-digit areas are 10 and 20-29; the others have three digits.
        short = area.group(1)[:2]
        if short == "10" or short.startswith("2"):
            return 10 <= len(digits) <= 11
        return 11 <= len(digits) <= 12


class CnLicensePlateRecognizer(TdsRecognizer):
    ENTITY = "CN_LICENSE_PLATE"
    PATTERNS = (
        ("cn_plate_new_energy",
         rf"(?<![A-Za-z0-9])[{_PROVINCE_ABBR}][{_PLATE_LETTER}][·]?(?:[DF][{_PLATE_LETTER}0-9]\d{{4}}"
         rf"|\d{{5}}[DF])(?![A-Za-z0-9])", 0.5),
        ("cn_plate",
         rf"(?<![A-Za-z0-9])[{_PROVINCE_ABBR}][{_PLATE_LETTER}][·]?[{_PLATE_LETTER}0-9]{{4}}"
         rf"[{_PLATE_LETTER}0-9挂学警港澳](?![A-Za-z0-9])", 0.5),
    )
    CONTEXT = ("车牌", "车牌号", "号牌", "车辆", "plate")

    def valid(self, text: str) -> bool:
        # Plates use upper-case letters only; I and O are never used.
        body = text[1:]
        return body == body.upper() and "I" not in body and "O" not in body


class EmailRecognizer(TdsRecognizer):
    """E-mail addresses, without Presidio's tldextract check (it would reach the network)."""

    ENTITY = "EMAIL_ADDRESS"
    PATTERNS = (
        ("email", r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}"
                  r"(?![A-Za-z0-9])", 0.5),
    )
    CONTEXT = ("邮箱", "电子邮件", "email", "mail")

    def valid(self, text: str) -> bool:
        local, _, domain = text.partition("@")
        return bool(local) and ".." not in text and not domain.startswith("-")


class CnAddressRecognizer(TdsRecognizer):
    ENTITY = "CN_ADDRESS"
    PATTERNS = (
        ("cn_address",
         r"[\u4e00-\u9fff]{2,8}(?:省|自治区|市)[\u4e00-\u9fff]{0,10}(?:市|州|盟|区|县|旗)?"
         r"[\u4e00-\u9fffA-Za-z0-9]{0,20}(?:路|街|大道|道|巷|弄|胡同|村|镇|乡)"
         r"[\u4e00-\u9fffA-Za-z0-9\- ]{0,20}(?:号|座|室|栋|幢|单元|楼)?", 0.4),
    )
    CONTEXT = ("地址", "住址", "家庭住址", "户籍地址", "居住地", "address")
    MATCH_IS_VALID = True


def _person_regex() -> str:
    compound = "|".join(sorted(COMPOUND_SURNAMES))
    single = "".join(sorted(SINGLE_SURNAMES))
    given = "".join(sorted(GIVEN_CHARS))
    return rf"(?:{compound}|[{single}])[{given}]{{1,2}}"


class CnPersonRecognizer(TdsRecognizer):
    """Chinese personal names by surname and given-name dictionaries (no model needed)."""

    ENTITY = "PERSON"
    PATTERNS = (("cn_person", _person_regex(), 0.15),)  # in free text, a name needs context
    CONTEXT = ("姓名", "患者", "联系人", "法人", "法定代表人", "申请人", "户主", "name")
    WHOLE_VALUE = True


class CnPassportRecognizer(TdsRecognizer):
    """Chinese passports: ordinary E/G + 8 digits, e-passports E + letter (no I, O) + 7 digits,
    diplomatic, service and public-affairs D/S/P + 7 or 8 digits. No check character exists, so
    a bare match scores low until context (护照) raises it."""

    ENTITY = "CN_PASSPORT"
    PATTERNS = (
        ("cn_passport", r"(?<![0-9A-Za-z])(?:[EG]\d{8}|E[A-HJ-NP-Z]\d{7}|[DSP]E?\d{7})"
                        r"(?![0-9A-Za-z])", 0.2),
    )
    CONTEXT = ("护照", "护照号", "护照号码", "passport")


class IpAddressRecognizer(TdsRecognizer):
    """IPv4 and IPv6 addresses, confirmed by Python's ``ipaddress`` parser."""

    ENTITY = "IP_ADDRESS"
    PATTERNS = (
        ("ipv4", r"(?<![0-9.])(?:\d{1,3}\.){3}\d{1,3}(?![0-9.])", 0.4),
        ("ipv6", r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])", 0.3),
    )
    CONTEXT = ("ip", "ip地址", "地址", "登录")
    VALID_RE2 = r"^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$"

    def valid(self, text: str) -> bool:
        try:
            ipaddress.ip_address(text)
        except ValueError:
            return False
        return True


class CreditCardRecognizer(LuhnCardRecognizer):
    """Payment cards of international schemes (13-19 digits, Luhn, as Presidio's CREDIT_CARD).
    Chinese bank cards of 16-19 digits take precedence as CN_BANK_CARD."""

    ENTITY = "CREDIT_CARD"
    PATTERNS = (
        ("credit_card", r"(?<![0-9])(?:4\d{3}|5[1-5]\d{2}|2[2-7]\d{2}|3[0-9]\d{2}|6\d{3})"
                        r"(?:[ -]?\d){9,15}(?![0-9])", 0.3),
    )
    CONTEXT = ("信用卡", "卡号", "credit", "card", "visa", "mastercard")

    DIGITS = (13, 19)


class IbanRecognizer(TdsRecognizer):
    """International bank account numbers; format and mod-97 check by Presidio's recognizer."""

    ENTITY = "IBAN_CODE"
    PATTERNS = (
        ("iban", r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?"
                 r"(?![A-Za-z0-9])", 0.3),
    )
    CONTEXT = ("iban", "国际银行账号", "银行账号", "account")

    def valid(self, text: str) -> bool:
        try:
            return bool(_presidio_iban().validate_result(text.upper()))
        except (KeyError, ValueError):
            return False


@cache
def _presidio_iban():  # Presidio's own recognizer, imported only when an IBAN-like value turns up
    from presidio_analyzer.predefined_recognizers import IbanRecognizer

    return IbanRecognizer()


class UrlRecognizer(TdsRecognizer):
    """Web addresses with a scheme or a www. prefix (bare names such as file.pdf are not)."""

    ENTITY = "URL"
    PATTERNS = (
        ("url", r"(?<![A-Za-z0-9@.])(?:https?://|www\.)[A-Za-z0-9\-._~%]+"
                r"(?:[/?#:][A-Za-z0-9\-._~%!$&'()*+,;=:@/?#]*)?", 0.5),
    )
    CONTEXT = ("网址", "链接", "网站", "主页", "url", "website", "link")
    MATCH_IS_VALID = True


# Order is precedence: where matches overlap, the earlier recognizer's entity wins
# (a valid resident ID that also passes Luhn is a resident ID).
RECOGNIZERS: tuple[type[TdsRecognizer], ...] = (
    CnResidentIdRecognizer,
    CnUsccRecognizer,
    CnBankCardRecognizer,
    CnMobileRecognizer,
    CnLandlineRecognizer,
    CnLicensePlateRecognizer,
    CnPassportRecognizer,
    CreditCardRecognizer,
    IbanRecognizer,
    IpAddressRecognizer,
    EmailRecognizer,
    UrlRecognizer,
    CnAddressRecognizer,
    CnPersonRecognizer,
)

if frozenset(cls.ENTITY for cls in RECOGNIZERS) != ENTITIES:  # one list, kept in step
    raise RuntimeError("anonymize.entities.ENTITIES does not list the registry's entities")


def detect(value: str, recognizers: list[TdsRecognizer]) -> set[str]:
    """Entities found in one value, overlapping matches resolved by precedence."""
    taken: list[tuple[int, int]] = []
    found: set[str] = set()
    for recognizer in recognizers:
        for start, end in recognizer.find(value):
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            found.add(recognizer.ENTITY)
    return found
