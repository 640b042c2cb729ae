"""Amounts of money: kept as whole hundredths (分) so sums never round; written and read as
decimals with two places."""

from __future__ import annotations

import re

from commerce.errors import InvalidCommerce

_DECIMAL = re.compile(r"\s*(\d{1,13})(?:\.(\d{1,2}))?\s*\Z")


def cents(value: str | int, what: str = "amount") -> int:
    """Hundredths of ``value``: a decimal text like "12.50", or whole hundredths as an int."""
    if isinstance(value, bool):
        raise InvalidCommerce("{what} must be an amount like 12.50", what=what)
    if isinstance(value, int):
        if value < 0:
            raise InvalidCommerce("{what} must not be negative", what=what)
        return value
    match = _DECIMAL.match(str(value))
    if not match:
        raise InvalidCommerce("{what} must be an amount like 12.50, not {value!r}", what=what,
                              value=str(value)[:20])
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def decimal(amount: int | None) -> str:
    """``amount`` hundredths as "12.50" ("" for none)."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"
