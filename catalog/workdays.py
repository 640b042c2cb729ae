"""Chinese working days: public holidays and adjusted working days (调休).

Uses the maintained ``chinese_calendar`` package; for dates it has no data for yet, falls back
to Monday-Friday plus the policy's ``extra_holidays``/``extra_workdays`` and says so.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from policies import Policy


def is_workday(day: dt.date, policy: Policy) -> tuple[bool, bool]:
    """(is a working day, the calendar knew the date)."""
    if day in policy.extra_holidays:
        return False, True
    if day in policy.extra_workdays:
        return True, True
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5, False


def add_working_days(start: dt.date, days: int, policy: Policy) -> tuple[dt.date, bool]:
    """The date ``days`` working days after ``start``, and whether the calendar knew every day."""
    exact = True
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        working, known = is_workday(current, policy)
        exact = exact and known
        if working:
            remaining -= 1
    return current, exact


def working_days_between(start: dt.date, end: dt.date, policy: Policy) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when end < start)."""
    if end < start:
        return -working_days_between(end, start, policy)
    count, current = 0, start
    while current < end:
        current += dt.timedelta(days=1)
        count += is_workday(current, policy)[0]
    return count
