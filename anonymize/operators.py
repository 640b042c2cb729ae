"""De-identification operators over whole columns (Arrow arrays).

Each operator takes an Arrow array and returns one of the same length, nulls kept as nulls.
Work is done once per distinct value, so a column of millions of rows with few distinct
values costs little. The sandbox registers them as DuckDB functions (``sandbox.functions``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from anonymize.errors import OperatorError

PSEUDONYM_HEX = 32  # 128 bits: collisions are negligible for any table the platform holds
DATE_UNITS = ("year", "quarter", "month")
REGION_LEVELS = ("province", "city", "county")

# Provinces, autonomous regions, municipalities and SARs at the start of a Chinese address.
_PROVINCE = re.compile(
    r"^\s*(北京市|天津市|上海市|重庆市|[\u4e00-\u9fff]{2,3}?省|内蒙古自治区|广西壮族自治区"
    r"|西藏自治区|宁夏回族自治区|新疆维吾尔自治区|香港特别行政区|澳门特别行政区)"
)
_CITY = re.compile(r"^([\u4e00-\u9fff]{1,8}?(?:自治州|地区|盟|市))")
_MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")


_STRING = pa.string()


def per_distinct(values: pa.Array | pa.ChunkedArray, fn: Callable[[object], object | None],
                  out_type: pa.DataType = _STRING) -> pa.Array:
    """Apply ``fn`` to each distinct non-null value and spread the results back."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values)
    dictionary = encoded.dictionary.to_pylist()
    mapped = pa.array([fn(v) for v in dictionary], type=out_type)
    return pc.take(mapped, encoded.indices)


def pseudonym_key(secret: bytes, scope: str) -> bytes:
    """The key of one scope (a grant): derived, so scopes cannot be linked without the secret."""
    if len(secret) < 16:
        raise OperatorError("the pseudonym secret must have at least 16 bytes")
    return hmac.new(secret, f"tds-pseudonym:{scope}".encode(), hashlib.sha256).digest()


def keyed_hex(key: bytes, value: object) -> str:
    """HMAC-SHA256 of a value as text (NFC, trimmed), in hex: " 110101..." and "110101..." are
    one value. Pseudonyms and consent digests both come from it."""
    text = unicodedata.normalize("NFC", str(value)).strip()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def pseudonymize(values: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array:
    """Keyed pseudonym (HMAC-SHA256): equal inputs map to equal outputs under one key, so joins
    still work within a grant; without the key the mapping cannot be reversed or linked."""
    if len(key) < 16:
        raise OperatorError("a pseudonym key must have at least 16 bytes")
    return per_distinct(values, lambda value: keyed_hex(key, value)[:PSEUDONYM_HEX])


def mask(values: pa.Array | pa.ChunkedArray, keep_first: int = 0, keep_last: int = 0,
         char: str = "*") -> pa.Array:
    """Replace all but the first ``keep_first`` and last ``keep_last`` characters."""
    if keep_first < 0 or keep_last < 0:
        raise OperatorError("mask keeps a non-negative number of characters")
    if len(char) != 1:
        raise OperatorError("the mask character must be one character")

    def one(value: object) -> str:
        text = str(value)
        if keep_first + keep_last >= len(text):
            # Showing every character would not mask anything: hide all of it instead.
            return char * len(text)
        tail = text[len(text) - keep_last:] if keep_last else ""
        return text[:keep_first] + char * (len(text) - keep_first - keep_last) + tail

    return per_distinct(values, one)


def age_band(values: pa.Array | pa.ChunkedArray, width: int = 10, top: int = 90) -> pa.Array:
    """Ages as bands of ``width`` years ("30-39"), everything from ``top`` on as "90+"."""
    if width <= 0 or top <= 0:
        raise OperatorError("age bands need a positive width and top")

    def one(value: object) -> str | None:
        age = int(value)
        if age < 0:
            return None
        if age >= top:
            return f"{top}+"
        low = age - age % width
        return f"{low}-{min(low + width - 1, top - 1)}"

    return per_distinct(values, one)


def generalize_date(values: pa.Array | pa.ChunkedArray, unit: str) -> pa.Array:
    """Dates (or timestamps) as "2024", "2024-Q1" or "2024-03"."""
    if unit not in DATE_UNITS:
        raise OperatorError("dates generalize to one of {date_units}, not {unit!r}",
                            date_units=', '.join(DATE_UNITS), unit=unit)

    def one(value: object) -> str:
        if unit == "year":
            return f"{value.year:04d}"
        if unit == "quarter":
            return f"{value.year:04d}-Q{(value.month - 1) // 3 + 1}"
        return f"{value.year:04d}-{value.month:02d}"

    return per_distinct(values, one)


def generalize_region_code(values: pa.Array | pa.ChunkedArray, level: str) -> pa.Array:
    """An administrative division code, or a resident ID whose first six digits are one, cut
    to its province ("440000"), city ("440300") or county ("440305"). Anything else: null."""
    if level not in REGION_LEVELS:
        raise OperatorError("regions generalize to one of {region_levels}, not {level!r}",
                            region_levels=', '.join(REGION_LEVELS), level=level)
    keep = {"province": 2, "city": 4, "county": 6}[level]

    def one(value: object) -> str | None:
        text = str(value).strip()
        if len(text) < 6 or not text[:6].isdigit():
            return None
        return text[:keep] + "0" * (6 - keep)

    return per_distinct(values, one)


def generalize_address(values: pa.Array | pa.ChunkedArray, level: str) -> pa.Array:
    """A Chinese address cut to its province ("广东省") or province and city ("广东省深圳市").
    Addresses whose province cannot be read become null rather than leak detail."""
    if level not in ("province", "city"):
        raise OperatorError("addresses generalize to province or city, not {level!r}", level=level)

    def one(value: object) -> str | None:
        text = str(value).strip()
        province = _PROVINCE.match(text)
        if not province:
            return None
        if level == "province" or province.group(1) in _MUNICIPALITIES:
            return province.group(1)
        city = _CITY.match(text[province.end():])
        return province.group(1) + city.group(1) if city else None

    return per_distinct(values, one)


def suppress(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Every value removed (all nulls, same type)."""
    return pa.nulls(len(values), type=values.type)
