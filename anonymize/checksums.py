"""Check characters of Chinese identifiers and bank cards."""

from __future__ import annotations

import datetime as dt

_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def resident_id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _plausible_birth(year: int, month: int, day: int) -> bool:
    try:
        born = dt.date(year, month, day)
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= born <= dt.date.today()


def resident_id_valid(value: str) -> bool:
    """GB 11643: 18 characters with a valid check character and birth date, or the 15-digit form."""
    value = value.upper()
    if len(value) == 18 and value[:17].isdigit() and value[17] in "0123456789X":
        if value[0] not in "123456789":
            return False
        if not _plausible_birth(int(value[6:10]), int(value[10:12]), int(value[12:14])):
            return False
        return resident_id_check_char(value[:17]) == value[17]
    if len(value) == 15 and value.isdigit() and value[0] in "123456789":
        return _plausible_birth(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))
    return False


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


# GB 32100: registration authority (1st character), then the province of the division code.
_USCC_AUTHORITIES = "123456789ANY"
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
})


def uscc_valid(value: str) -> bool:
    """GB 32100 unified social credit code: authority, division code, check character last."""
    value = value.upper()
    if len(value) != 18 or any(c not in USCC_ALPHABET for c in value):
        return False
    if value[0] not in _USCC_AUTHORITIES or not value[2:8].isdigit():
        return False
    if value[2:4] not in PROVINCES:
        return False
    return uscc_check_char(value[:17]) == value[17]


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    for d in "0123456789":
        if luhn_valid(partial + d):
            return d
    raise AssertionError("unreachable: one digit always completes a Luhn number")
