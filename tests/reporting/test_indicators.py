"""Monitoring indicators per month, from the ledger."""

from __future__ import annotations

import datetime as dt

from reporting.indicators import monthly, months_back
from tests.conftest import apply, approve, register


def test_months_back_crosses_the_year():
    assert months_back(3, dt.date(2026, 2, 10)) == ["2025-12", "2026-01", "2026-02"]
    assert months_back(1, dt.date(2026, 12, 31)) == ["2026-12"]


def test_monthly_counts_what_happened_this_month(home, people, visits_file):

    register(home, people.provider, visits_file)
    app_id = apply(home, people.merchant)
    approve(home, people.reviewer, app_id)
    today = dt.datetime.now(dt.UTC).date()
    with home.store.read() as s:
        series = monthly(s, 6, today)
    assert series["months"][-1] == today.strftime("%Y-%m") and len(series["months"]) == 6
    groups = series["groups"]
    assert groups["resource_supply"]["datasets_registered"] == [0, 0, 0, 0, 0, 1]
    assert groups["resource_supply"]["grants_created"][-1] == 1
    assert groups["authorization_procedure"]["applications_submitted"][-1] == 1
    assert groups["authorization_procedure"]["applications_decided"][-1] == 1
    assert groups["authorization_procedure"]["decided_within_deadline_share"] == [
        None, None, None, None, None, 1.0]
    assert groups["data_security"]["failed_sign_ins"] == [0] * 6
    with home.store.read() as s:  # a window that ended before anything happened is empty
        earlier = monthly(s, 2, today - dt.timedelta(days=70))
    assert all(v == 0 for v in earlier["groups"]["resource_supply"]["datasets_registered"])
