"""Only declared event types reach the ledger, each about its kind of subject."""

from __future__ import annotations

import pytest

import accounts.events
import catalog.events
import egress.events
import sandbox.events
from lineage import LedgerError, LedgerEvent, append
from lineage.events import REGISTRY, event
from policies import SYSTEM


def test_an_undeclared_action_changes_nothing(home):
    with pytest.raises(LedgerError, match=r"'dataset\.registerd' is not a declared event type"), \
            home.store.transaction() as s:
        append(s, SYSTEM, "dataset.registerd", "dataset_version:1", {})
    with home.store.read() as s:
        assert s.query(LedgerEvent).filter_by(action="dataset.registerd").count() == 0


def test_an_event_about_another_kind_of_subject_is_refused(home):
    with pytest.raises(LedgerError, match="about job subjects, not 'grant:3'"), \
            home.store.transaction() as s:
        append(s, SYSTEM, sandbox.events.JOB_QUEUED, "grant:3", {})


def test_every_package_declares_its_events_once():
    declared = [accounts.events.USER_CREATED, catalog.events.GRANT_CREATED,
                sandbox.events.JOB_SUCCEEDED, egress.events.RELEASE_CREATED,
                *egress.events.MOVED.values(), *egress.events.VOTED.values()]
    assert all(action in REGISTRY for action in declared)
    assert all(REGISTRY[a].help for a in REGISTRY)
    with pytest.raises(ValueError, match="declared twice"):
        event(catalog.events.GRANT_CREATED, "job", "the same action about another subject")


def test_a_payload_field_its_model_does_not_declare_is_refused_and_not_echoed(home):
    """A value of the data slipped into a payload would stay five years: refused, unquoted."""
    with pytest.raises(LedgerError) as refused, home.store.transaction() as s:
        append(s, SYSTEM, sandbox.events.JOB_RUNNING, "job:1",
               {"attempt": 1, "worker": "w", "sample": "13800138000"})
    assert "sample" in str(refused.value) and "13800138000" not in str(refused.value)
    with home.store.read() as s:
        assert s.query(LedgerEvent).filter_by(action=sandbox.events.JOB_RUNNING).count() == 0


def test_a_payload_of_the_wrong_type_or_missing_a_field_is_refused(home):
    with pytest.raises(LedgerError, match="attempt"), home.store.transaction() as s:
        append(s, SYSTEM, sandbox.events.JOB_RUNNING, "job:1", {"attempt": "1", "worker": "w"})
    with pytest.raises(LedgerError, match="worker"), home.store.transaction() as s:
        append(s, SYSTEM, sandbox.events.JOB_RUNNING, "job:1", {"attempt": 1})


def test_every_event_type_has_a_payload_model_that_forbids_other_fields():
    from lineage.events import Payload
    for action, declared in REGISTRY.items():
        if action == "test.event":
            continue
        assert issubclass(declared.payload, Payload), action
        assert declared.payload.model_config.get("extra") == "forbid", action

