"""Check-character kernels over whole Arrow columns (numpy), for column scans.

Each kernel takes a string array whose values already matched the identifier's pattern and
returns a boolean numpy mask; the answers equal :mod:`anonymize.checksums` value by value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

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
    """(n, width) uint8 matrix of strings that are all exactly ``width`` bytes long."""
    values = pc.cast(values, pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.offset:
        values = pa.concat_arrays([values])  # a copy whose offsets start at the buffer
    n = len(values)
    if n == 0 or values.buffers()[2] is None:
        return np.zeros((0, width), dtype=np.uint8)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[: n + 1]
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)
    start = int(offsets[0])
    if int(offsets[-1]) - start == n * width:  # contiguous: a view, no copy
        return data[start:start + n * width].reshape(n, width)
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


def _by_length(values: pa.Array) -> Iterator[tuple[int, np.ndarray, pa.Array]]:
    """Groups of values of equal byte length: (length, row numbers, the values)."""
    lengths = pc.binary_length(values).to_numpy(zero_copy_only=False)
    for n in np.unique(lengths):
        rows = np.flatnonzero(lengths == n)
        yield int(n), rows, values if len(rows) == len(values) else values.take(pa.array(rows))


def resident_id_valid(values: pa.Array) -> np.ndarray:
    """GB 11643, as :func:`anonymize.checksums.resident_id_valid`."""
    values = pc.utf8_upper(values)
    out = np.zeros(len(values), dtype=bool)
    for length, rows, group in _by_length(values):
        if length not in (15, 18):
            continue
        m = _bytes_matrix(group, length)
        digits = m.astype(np.int32) - 48
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
    groups = [(rows, group) for length, rows, group in _by_length(values) if length == 18]
    if not groups:
        return out
    rows, group = groups[0]
    m = _bytes_matrix(group, 18)
    codes = _USCC_VALUE[m]
    ok = (codes >= 0).all(axis=1) & _USCC_AUTHORITY[m[:, 0]]
    ok &= (codes[:, 2:8] <= 9).all(axis=1)
    ok &= _PROVINCE[np.where(ok, codes[:, 2] * 10 + codes[:, 3], 0)]
    check = (31 - (np.where(ok[:, None], codes[:, :17], 0) @ _USCC_WEIGHTS) % 31) % 31
    out[rows] = ok & (check == codes[:, 17])
    return out


_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.uint8)


def luhn_valid(values: pa.Array, min_digits: int, max_digits: int) -> np.ndarray:
    """Luhn over the digits of each value (spaces and hyphens dropped), with a length range."""
    digits_only = pc.replace_substring(pc.replace_substring(values, " ", ""), "-", "")
    out = np.zeros(len(values), dtype=bool)
    for length, rows, group in _by_length(digits_only):
        if not min_digits <= length <= max_digits:
            continue
        digits = _bytes_matrix(group, length) - np.uint8(48)
        ok = (digits <= 9).all(axis=1)  # uint8: bytes below '0' wrap around above 9
        digits = np.where(ok[:, None], digits, 0)
        doubled = np.zeros(length, dtype=bool)
        doubled[length - 2::-2] = True  # every second digit from the right, check digit excluded
        total = np.where(doubled, _DOUBLED[digits], digits).sum(axis=1, dtype=np.int32)
        out[rows] = ok & (total % 10 == 0)
    return out
