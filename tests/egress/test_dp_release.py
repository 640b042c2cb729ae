"""Egress of a differentially private output: the cell rules it makes unnecessary are skipped,
the rest apply, its manifest carries its guarantee, and a consent change stops it."""

from __future__ import annotations

import json

from actions import Context
from actions import consent as consent_actions
from egress import requesting
from egress.bundle import verify_bundle
from tests.catalog.test_consent import residents  # noqa: F401 - a fixture
from tests.egress.test_egress import ask, verdicts, vote
from tests.helpers import set_policy
from tests.sandbox.test_dp import run, spec

SMALL = [{"column": "district"}, {"column": "department"}]  # many cells under 10 persons


def test_a_dp_output_with_small_cells_passes_and_its_manifest_records_epsilon(
        home, people, grant_id):
    job = run(home, people, grant_id, spec(by=SMALL, measures=[{"statistic": "count"}]))
    assert job["status"] == "succeeded", job["error"]
    req = ask(home, people, job["id"])
    assert set(verdicts(req).values()) == {"pass"}, req["checks"]
    disclosure = next(c for c in req["checks"] if c["name"] == "disclosure")
    assert disclosure["code"] == "disclosure.dp"
    assert disclosure["details"]["dp"]["epsilon"] == 0.5
    vote(home, people.reviewer, req["id"])
    assert vote(home, people.reviewer2, req["id"])["status"] == "released"
    with home.store.read() as s:
        release = requesting.list_releases(s, people.merchant)[0]
        bundle = home.root / release.path
    assert verify_bundle(bundle, (home.keys_dir / "platform_ed25519.pub.pem").read_bytes())[
        "valid"]
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["differential_privacy"]["epsilon"] == "0.5"  # the manifest has no floats
    assert float(manifest["differential_privacy"]["delta"]) == 0.0
    assert manifest["differential_privacy"]["mechanisms"] == {"count": "discrete Laplace"}


def test_the_same_cells_without_noise_fail_the_small_cell_rule(home, people, grant_id):
    from tests.egress.test_egress import job

    made = job(home, people, grant_id, "SELECT district, department, count(*) AS n FROM visits "
                                       "GROUP BY 1, 2")
    assert verdicts(ask(home, people, made))["disclosure"] == "fail"


def test_a_policy_that_keeps_the_cell_rules_fails_a_dp_output_closed(home, people, grant_id):
    set_policy(home, skip_cell_rules="false")
    job = run(home, people, grant_id, spec(measures=[{"statistic": "count"}]))
    assert verdicts(ask(home, people, job["id"]))["disclosure"] == "fail"


def test_a_dp_output_made_before_a_consent_withdrawal_is_not_released(
        home, people, grant_id, residents):  # noqa: F811
    provider = Context.of(home, people.provider)
    consent_actions.require(provider, "visits", True)
    consent_actions.record(provider, "visits", [{"subject": r} for r in residents])
    made = run(home, people, grant_id, spec(measures=[{"statistic": "count"}]), "before")
    assert made["status"] == "succeeded", made["error"]
    consent_actions.withdraw(provider, "visits", subjects=list(residents)[:40])
    checks = {c["name"]: c for c in ask(home, people, made["id"])["checks"]}
    assert checks["disclosure"]["code"] == "disclosure.dp_consent_changed"
    again = run(home, people, grant_id, spec(measures=[{"statistic": "count"}]), "after")
    assert verdicts(ask(home, people, again["id"]))["disclosure"] == "pass"
