"""The permission table is what the application layer enforces: every action refuses every role
the table does not list, before it reads or changes anything, and lets the listed roles past the
permission check."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions import (
    Context,
    applications,
    cases,
    catalog,
    commerce,
    consent,
    egress,
    jobs,
    ledger,
    qualification,
    quality,
    sweeps,
    users,
)
from catalog.applications import Request
from catalog.datasets import Registration
from policies import Actor, Forbidden, Role
from policies.permissions import PERMISSIONS, Action, allowed, permit, roles_for

# One call of the application layer per action of the table (arguments that would fail later,
# if the permission check let them through: a refusal must come before any of that).
CALLS = {
    Action.USER_MANAGE: lambda c: users.add(c, "nobody", "merchant", "org"),
    Action.ACCOUNT_TOKEN: lambda c: users.rotate_token(c),
    Action.DATASET_READ: lambda c: catalog.search(c),
    Action.DATASET_REGISTER: lambda c: catalog.register(
        c, Path("/nonexistent.csv"), Registration("x", "x", "x", "L1", "open", "")),
    Action.DATASET_CLASSIFY: lambda c: catalog.classify(c, "nope", catalog.Classification()),
    Action.PREVIEW_BUILD: lambda c: catalog.build_preview(c, "nope"),
    Action.APPLICATION_SUBMIT: lambda c: applications.submit(
        c, Request("s", "d", "p", "p", 1, False, [])),
    Action.APPLICATION_READ: lambda c: applications.search(c),
    Action.APPLICATION_DECIDE: lambda c: applications.decide(c, 999, True, ""),
    Action.APPLICATION_CHECK: lambda c: applications.to_check(c),
    Action.CASE_OPEN: lambda c: cases.open_case(c, "complaint", "t", "d"),
    Action.CASE_READ: lambda c: cases.search(c),
    Action.CASE_HANDLE: lambda c: cases.respond(c, 999, "r"),
    Action.QUALIFICATION_APPLY: lambda c: qualification.apply(c, "x", "x", "x", {}),
    Action.QUALIFICATION_READ: lambda c: qualification.search(c),
    Action.QUALIFICATION_REVIEW: lambda c: qualification.review(c, 999, True, ""),
    Action.CONSENT_MANAGE: lambda c: consent.require(c, "nope", True),
    Action.CONSENT_READ: lambda c: consent.summary(c, "nope"),
    Action.QUALITY_REPORT: lambda c: quality.report(c, "nope", "other", [], "x"),
    Action.QUALITY_READ: lambda c: quality.search(c),
    Action.QUALITY_ANSWER: lambda c: quality.answer(c, 999, "reject", "x"),
    Action.PRODUCT_LIST: lambda c: commerce.register(c, 999, "industry", "d", "call", 1, "b"),
    Action.PRODUCT_READ: lambda c: commerce.search(c),
    Action.PRODUCT_WITHDRAW: lambda c: commerce.withdraw(c, 999),
    Action.PRODUCT_PRICE: lambda c: commerce.decide_price(c, 999, True, ""),
    Action.FINANCE_RECORD: lambda c: commerce.book(c, "cost", "x", 1),
    Action.FINANCE_READ: lambda c: commerce.books(c),
    Action.GRANT_READ: lambda c: applications.grants(c),
    Action.GRANT_REVOKE: lambda c: applications.revoke(c, 999, "r"),
    Action.JOB_SUBMIT: lambda c: jobs.submit(c, 999, "SELECT 1 AS x", "x"),
    Action.JOB_READ: lambda c: jobs.search(c),
    Action.JOB_CANCEL: lambda c: jobs.cancel(c, 999),
    Action.ALERT_MANAGE: lambda c: jobs.alerts(c),
    Action.EGRESS_REQUEST: lambda c: egress.withdraw(c, 999),
    Action.EGRESS_READ: lambda c: egress.search(c),
    Action.EGRESS_REVIEW: lambda c: egress.vote(c, 999, egress.Ballot("approve", "c")),
    Action.EGRESS_VALUES: lambda c: egress.output_values(c, 999),
    Action.RELEASE_READ: lambda c: egress.releases(c),
    Action.RELEASE_DOWNLOAD: lambda c: egress.download(c, 999),
    Action.SWEEP: lambda c: sweeps.overdue(c),
    Action.LEDGER_AUDIT: lambda c: ledger.verify(c),
    Action.LEDGER_MAINTAIN: lambda c: ledger.purge(c, "2000-01"),
}


def test_every_action_has_a_row_and_a_call():
    assert set(PERMISSIONS) == set(Action)
    assert set(CALLS) == set(Action) - {Action.ACCOUNT_READ, Action.GRANT_USE}


@pytest.mark.parametrize("action", sorted(CALLS))
def test_the_application_layer_enforces_the_table(home, action):
    for role in Role:
        ctx = Context.of(home, Actor(1, f"a {role.value}", role, "某机构"))
        if role in PERMISSIONS[action]:
            try:
                CALLS[action](ctx)
            except Forbidden as exc:  # only a refusal of the domain's own (e.g. "not yours")
                assert "needs the role" not in exc.message, (role, exc.message)
            except Exception:  # past the check, the made-up arguments fail
                pass
        else:
            with pytest.raises(Forbidden, match="needs the role"):
                CALLS[action](ctx)


def test_permit_names_the_roles_allowed():
    merchant = Actor(1, "m", Role.MERCHANT, "o")
    assert allowed(merchant, Action.JOB_SUBMIT) and not allowed(merchant, Action.SWEEP)
    assert roles_for(Action.DATASET_REGISTER) == (Role.PROVIDER, Role.ADMIN)
    with pytest.raises(Forbidden, match="needs the role admin; you are merchant"):
        permit(merchant, Action.SWEEP)
    with pytest.raises(Forbidden, match="needs the role admin, regulator; you are merchant"):
        permit(merchant, Action.LEDGER_AUDIT)


def test_the_regulator_may_read_and_may_change_nothing():
    """Every action the regulator may perform only reads (the supervising authority)."""
    reading = {a for a, roles in PERMISSIONS.items() if Role.REGULATOR in roles}
    assert reading == {Action.ACCOUNT_READ, Action.ACCOUNT_TOKEN, Action.DATASET_READ,
                       Action.APPLICATION_READ, Action.GRANT_READ, Action.JOB_READ,
                       Action.EGRESS_READ, Action.RELEASE_READ, Action.QUALITY_READ,
                       Action.CASE_READ, Action.LEDGER_AUDIT, Action.PRODUCT_READ,
                       Action.FINANCE_READ, Action.CONSENT_READ,
                       Action.QUALIFICATION_READ}
