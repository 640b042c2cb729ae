"""Check-character kernels over whole Arrow columns (numpy), for column scans.

Each kernel takes a string array whose values already matched the identifier's pattern and
returns a boolean numpy mask; the answers equal :mod:`anonymize.checksums` value by value.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from anonymize import checksums

_ID_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_USCC_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(checksums.USCC_ALPHABET):
    _USCC_VALUE[ord(_c)] = _i
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_USCC_AUTHORITY = np.zeros(256, dtype=bool)
_USCC_AUTHORITY[list(b"123456789ANY")] = True
_PROVINCE = np.zeros(100, dtype=bool)
_PROVINCE[[int(p) for p in checksums.PROVINCES]] = True
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _bytes_matrix(values: pa.Array, width: int) -> np.ndarray:
    """(n, width) byte matrix of strings that are all exactly ``width`` bytes long."""
    values = pc.cast(values, pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.offset:
        values = pa.concat_arrays([values])  # a copy whose offsets start at the buffer
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[: len(values) + 1]
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8) if values.buffers()[2] else \
        np.zeros(0, dtype=np.uint8)
    return data[offsets[:-1, None] + np.arange(width)]


def _number(digits: np.ndarray) -> np.ndarray:
    """The integer each row of a digit matrix (values 0-9) spells."""
    out = np.zeros(len(digits), dtype=np.int64)
    for column in range(digits.shape[1]):
        out = out * 10 + digits[:, column]
    return out


def _plausible_birth(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    ok = (month >= 1) & (month <= 12)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = _MONTH_DAYS[np.where(ok, month, 0)] + ((month == 2) & leap)
    ok &= (day >= 1) & (day <= days)
    today = dt.date.today()
    stamp = year * 10_000 + month * 100 + day
    return ok & (stamp >= 1900_01_01) & (stamp <= today.year * 10_000 + today.month * 100 + today.day)


def _by_length(values: pa.Array) -> dict[int, np.ndarray]:
    lengths = np.asarray(pc.binary_length(values))
    return {int(n): np.flatnonzero(lengths == n) for n in np.unique(lengths)}


def resident_id_valid(values: pa.Array) -> np.ndarray:
    """GB 11643, as :func:`anonymize.checksums.resident_id_valid`."""
    values = pc.utf8_upper(values)
    out = np.zeros(len(values), dtype=bool)
    for length, rows in _by_length(values).items():
        if length not in (15, 18) or not len(rows):
            continue
        m = _bytes_matrix(values.take(pa.array(rows)), length)
        digits = m.astype(np.int64) - 48
        body = digits[:, :length - (1 if length == 18 else 0)]
        ok = ((body >= 0) & (body <= 9)).all(axis=1) & (digits[:, 0] >= 1)
        body = np.where(ok[:, None], body, 0)
        if length == 18:
            ok &= _plausible_birth(_number(body[:, 6:10]), _number(body[:, 10:12]),
                                   _number(body[:, 12:14]))
            ok &= _ID_CHECK[(body @ _ID_WEIGHTS) % 11] == m[:, 17]
        else:
            ok &= _plausible_birth(1900 + _number(body[:, 6:8]), _number(body[:, 8:10]),
                                   _number(body[:, 10:12]))
        out[rows] = ok
    return out


def uscc_valid(values: pa.Array) -> np.ndarray:
    """GB 32100, as :func:`anonymize.checksums.uscc_valid`."""
    values = pc.utf8_upper(values)
    out = np.zeros(len(values), dtype=bool)
    rows = _by_length(values).get(18)
    if rows is None or not len(rows):
        return out
    m = _bytes_matrix(values.take(pa.array(rows)), 18)
    codes = _USCC_VALUE[m]
    ok = (codes >= 0).all(axis=1) & _USCC_AUTHORITY[m[:, 0]]
    ok &= (codes[:, 2:8] <= 9).all(axis=1)
    ok &= _PROVINCE[np.where(ok, codes[:, 2] * 10 + codes[:, 3], 0)]
    check = (31 - (np.where(ok[:, None], codes[:, :17], 0) @ _USCC_WEIGHTS) % 31) % 31
    out[rows] = ok & (check == codes[:, 17])
    return out


def luhn_valid(values: pa.Array, min_digits: int, max_digits: int) -> np.ndarray:
    """Luhn over the digits of each value (spaces and hyphens dropped), with a length range."""
    digits_only = pc.replace_substring_regex(values, r"[ -]", "")
    out = np.zeros(len(values), dtype=bool)
    for length, rows in _by_length(digits_only).items():
        if not min_digits <= length <= max_digits or not len(rows):
            continue
        digits = _bytes_matrix(digits_only.take(pa.array(rows)), length).astype(np.int64) - 48
        ok = ((digits >= 0) & (digits <= 9)).all(axis=1)
        doubled = digits[:, ::-1].copy()
        odd = doubled[:, 1::2] * 2
        doubled[:, 1::2] = np.where(odd > 9, odd - 9, odd)
        out[rows] = ok & (doubled.sum(axis=1) % 10 == 0)
    return out
