"""Each role sees what waits for it and hears of events on its own work, never of others';
digests reach a real (local) SMTP server and name events and ids only."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from accounts import users
from catalog import applications
from lineage import LedgerEvent
from notices import inbox, mail, todo
from tests.conftest import apply, approve, first_level, register
from tests.helpers import refused


def kinds(home, actor, today=None):
    with home.store.read() as s:
        return {t.kind: (t.count, t.near) for t in todo.todos(s, actor, home.policy, today)}


def heard(home, actor):
    with home.store.read() as s:
        return [(n["action"], n["subject"], n["unread"]) for n in inbox.notices(s, actor)]


def test_reviewers_see_waiting_applications_and_merchants_hear_the_decision(
        home, people, visits_file):
    register(home, people.provider, visits_file)
    app_id = apply(home, people.merchant)
    assert kinds(home, people.reviewer)["applications_to_review"][0] == 1
    # Ten working days ahead: not near today, near a day before the deadline.
    with home.store.read() as s:
        deadline = applications.get(s, people.reviewer, app_id).deadline
    assert kinds(home, people.reviewer)["applications_to_review"][1] == 0
    assert kinds(home, people.reviewer, deadline - dt.timedelta(days=1)) == {
        "applications_to_review": (1, 1)}
    assert ("application.submitted", f"application:{app_id}", True) in heard(home, people.reviewer)
    assert heard(home, people.merchant) == []  # nobody hears of their own action
    with home.store.transaction() as s:
        applications.decide(s, people.reviewer, home.policy, app_id, "return", "补充用途说明")
    assert heard(home, people.merchant)[0] == ("application.returned", f"application:{app_id}",
                                               True)
    assert heard(home, people.merchant_b) == []  # another organization's work
    assert kinds(home, people.merchant)["applications_to_amend"][0] == 1
    assert "applications_to_review" not in kinds(home, people.reviewer)
    with home.store.transaction() as s:
        inbox.read_all(s, people.merchant)
    assert [unread for *_, unread in heard(home, people.merchant)] == [False]
    with home.store.read() as s:
        assert inbox.unread(s, people.merchant) == 0 and inbox.unread(s, people.reviewer) == 1


def test_providers_and_admins_have_their_own_todos(home, people, visits_file):
    register(home, people.provider, visits_file)
    assert kinds(home, people.provider) == {"classifications_to_confirm": (1, 0)}
    assert kinds(home, people.provider_b) == {}
    assert kinds(home, people.admin) == {}


def test_providers_hear_of_applications_for_their_datasets_until_they_check_them(
        home, people, visits_file):
    register(home, people.provider, visits_file)
    app_id = apply(home, people.merchant)
    assert kinds(home, people.provider)["applications_to_check"][0] == 1
    assert heard(home, people.provider)[0] == ("application.submitted",
                                                f"application:{app_id}", True)
    assert "applications_to_check" not in kinds(home, people.provider_b)
    assert heard(home, people.provider_b) == []
    first_level(home, app_id)
    assert "applications_to_check" not in kinds(home, people.provider)
    # Reviewers hear that the department has checked.
    assert ("application.checked", f"application:{app_id}", True) in heard(home, people.reviewer)


@pytest.fixture
def smtp():
    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def test_digests_go_to_users_with_an_address_once(home, people, visits_file, smtp):
    port, received = smtp
    home.policy = home.policy.changed("notifications", smtp_host="127.0.0.1", smtp_port=port,
                                      console_url="https://tds.example.gov.cn")
    register(home, people.provider, visits_file)
    with home.store.transaction() as s:
        users.set_email(s, people.admin, "merchant", "zhang@example.com")
        assert mail.send_digests(s, home.policy)["messages"] == 0  # a new address: from now on
    app_id = apply(home, people.merchant)
    approve(home, people.reviewer, app_id)
    with home.store.transaction() as s:
        assert mail.send_digests(s, home.policy) == {"messages": 1, "notices": 1, "failed": 0}
    (envelope,) = received
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    text = message.get_content()
    assert message["Subject"] == "数据沙箱通知：1 条新消息"
    assert envelope.rcpt_tos == ["zhang@example.com"]
    assert f"https://tds.example.gov.cn/applications/{app_id}" in text
    assert "门诊" not in text and "同意" not in text  # no titles, no comments: ids only
    with home.store.transaction() as s:
        assert mail.send_digests(s, home.policy)["messages"] == 0  # nothing new
    with home.store.read() as s:
        event = s.scalars(select(LedgerEvent).where(LedgerEvent.action == "user.email_set")).one()
        assert "example.com" not in event.payload


def test_an_unreachable_mail_server_keeps_the_notices_for_later(home, people, visits_file):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    home.policy = home.policy.changed("notifications", smtp_host="127.0.0.1", smtp_port=closed)
    register(home, people.provider, visits_file)
    with home.store.transaction() as s:
        users.set_email(s, people.admin, "merchant", "zhang@example.com")
        mail.send_digests(s, home.policy)
    app_id = apply(home, people.merchant)
    with home.store.transaction() as s:
        applications.decide(s, people.reviewer, home.policy, app_id, False, "不符合")
    with home.store.transaction() as s:
        assert mail.send_digests(s, home.policy) == {"messages": 0, "notices": 0, "failed": 1}
    with home.store.read() as s:
        mark = inbox.mark(s, people.merchant)
        assert inbox.notices(s, people.merchant, after=mark.mailed_seq)  # still to send


@pytest.mark.parametrize("address", ["not-an-address", "a@b", "x@y.z<script>", "a b@c.de"])
def test_malformed_addresses_are_refused(home, people, address):
    with refused(home, "is not an e-mail address"), home.store.transaction() as s:
        users.set_email(s, people.admin, "merchant", address)


def test_only_admins_set_other_users_addresses(home, people):
    with refused(home, "only an administrator", "forbidden"), home.store.transaction() as s:
        users.set_email(s, people.merchant, "reviewer", "li@example.com")
    with home.store.transaction() as s:
        assert users.set_email(s, people.merchant, "merchant", "me@example.com").email \
            == "me@example.com"


def test_reviewers_see_egress_requests_without_their_vote_and_not_their_own_orgs(
        home, people, grant_id):
    from accounts.users import add_user
    from policies import OPERATOR
    from tests.egress.test_egress import ask, job, vote

    with home.store.transaction() as s:
        insider = add_user(s, OPERATOR, "insider", "reviewer", "粤数科技")[0].actor()
    req = ask(home, people, job(home, people, grant_id))
    assert kinds(home, people.reviewer)["egress_to_review"][0] == 1
    assert kinds(home, people.reviewer2)["egress_to_review"][0] == 1
    assert "egress_to_review" not in kinds(home, insider)  # the merchant's own organization
    vote(home, people.reviewer, req["id"])
    assert "egress_to_review" not in kinds(home, people.reviewer)  # voted this round
    assert kinds(home, people.reviewer2)["egress_to_review"][0] == 1
