"""Users: roles, organizations, tokens; bad input refused without a trace."""

from __future__ import annotations

import pytest

from accounts.users import add_user, authenticate
from policies import OPERATOR
from tests.helpers import refused


def add(home, name, role="merchant", org="甲公司", actor=OPERATOR):
    with home.store.transaction() as s:
        return add_user(s, actor, name, role, org)


def test_a_token_authenticates_its_user_only(home):
    _user, token = add(home, "alice")
    with home.store.read() as s:
        actor = authenticate(s, token)
        assert (actor.name, actor.role.value, actor.org) == ("alice", "merchant", "甲公司")
    with refused(home, "not valid", "unauthenticated"), home.store.read() as s:
        authenticate(s, token + "x")


@pytest.mark.parametrize("name,role,org,message", [
    ("alice", "merchant", "甲公司", "exists already"),
    ("../root", "merchant", "甲公司", "user name"),
    ("bob", "superuser", None, "role must be one of"),
    ("bob", "merchant", None, "must belong to an organization"),
    ("bob", "reviewer", "bad\x00org", "control or invisible"),
])
def test_bad_users_are_refused(home, name, role, org, message):
    add(home, "alice")
    with refused(home, message):
        add(home, name, role, org)


def test_only_administrators_add_users(home, people):
    with refused(home, "needs the role admin", "forbidden"):
        add(home, "mallory", actor=people.merchant)
