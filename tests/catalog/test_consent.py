"""Consent records (PIPL Art. 13-16; Measures Art. 25): a dataset used with consent shows real
jobs only the rows of persons whose consent is in force and covers the granted columns; a
withdrawal or an expiry takes effect at the next job; no person's value reaches the store or the
ledger."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from actions import Context
from actions import consent as consent_actions
from catalog import consent, datasets
from catalog.models import ConsentRecord
from lineage.ledger import LedgerEvent
from policies import Forbidden
from sandbox.models import Job
from tests.conftest import register
from tests.egress.test_egress import job
from tests.helpers import read_stored, refused, set_policy

_names = itertools.count()


def count(home, people, grant_id, where: str = "") -> int:
    """The rows a real job of the grant sees (the job's output: one count)."""
    job_id = job(home, people, grant_id, f"SELECT count(*) AS n FROM visits {where}",
                 name=f"n{next(_names)}")
    with home.store.read() as s:
        done = s.get(Job, job_id)
        assert done.status == "succeeded", done.error
        return read_stored(home, done.output_path).column("n")[0].as_py()


@pytest.fixture
def residents(visits_file) -> dict[str, int]:
    """Resident ids of the visits, with how many rows each has."""
    ids = pq.read_table(visits_file).column("resident_id").to_pylist()
    return {r: ids.count(r) for r in dict.fromkeys(ids)}


def test_real_jobs_see_only_consenting_persons_and_a_withdrawal_counts_at_the_next_job(
        home, people, grant_id, residents):
    provider = Context.of(home, people.provider)
    assert count(home, people, grant_id) == 400
    summary = consent_actions.require(provider, "visits", True)
    assert summary["required"] and summary["person_key"] == "resident_id"
    assert count(home, people, grant_id) == 0  # no consent filed yet: nothing to see

    chosen = list(residents)[:8]
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    rows = ([{"subject": r, "reference": f"CF-{i}"} for i, r in enumerate(chosen[:4])]
            + [{"subject": chosen[4], "columns": "district fee"},  # does not cover the grant
               {"subject": chosen[5], "given_on": "2020-01-01", "expires_on": yesterday},
               {"subject": f" {chosen[6]} ", "columns": "district department visit_date fee age"},
               ])
    made = consent_actions.record(provider, "visits", rows)
    assert made["recorded"] == 7 and made["superseded"] == 0
    in_force = [*chosen[:4], chosen[6]]
    assert count(home, people, grant_id) == sum(residents[r] for r in in_force)

    gone = consent_actions.withdraw(provider, "visits", subjects=[chosen[0]])
    assert gone["withdrawn"] == 1
    in_force.remove(chosen[0])
    assert count(home, people, grant_id) == sum(residents[r] for r in in_force)
    # A newer consent of a person replaces theirs: narrower now, so their rows leave the view.
    again = consent_actions.record(provider, "visits", [{"subject": chosen[1],
                                                          "columns": "fee"}])
    assert again["superseded"] == 1
    in_force.remove(chosen[1])
    assert count(home, people, grant_id) == sum(residents[r] for r in in_force)

    counts = consent_actions.summary(provider, "visits")["counts"]
    assert counts == {"active": 5, "future": 0, "expired": 1, "withdrawn": 1, "superseded": 1}
    listed = consent_actions.search(provider, "visits", status="expired")
    assert [c["given_on"] for c in listed] == ["2020-01-01"] and len(listed[0]["subject"]) == 12
    # The simulated target is built from the preview, which consent does not narrow.
    with home.store.transaction() as s:
        from sandbox import jobs

        sim = jobs.submit(s, people.merchant, home.policy, home.data, grant_id,
                          "SELECT count(*) AS n FROM visits", "sim", target="simulated").id
    home.run_job(sim)
    with home.store.read() as s:
        assert s.get(Job, sim).status == "succeeded"

    # Turned off, the whole dataset is back.
    consent_actions.require(provider, "visits", False)
    assert count(home, people, grant_id) == 400

    # The store and the ledger name no person: digests only, and the ledger not even those.
    with home.store.read() as s:
        stored = list(s.scalars(select(ConsentRecord.subject)))
        payloads = [json.dumps(e.payload, ensure_ascii=False) for e in s.scalars(
            select(LedgerEvent).where(LedgerEvent.action.like("consent.%")))]
    assert len(payloads) == 5 and all(len(d) == 64 for d in stored)
    for value in chosen:
        assert value not in stored and all(value not in p for p in payloads)
    assert not any(d in p for d in stored for p in payloads)


def test_bad_consents_are_refused_whole_and_change_nothing(home, people, grant_id, residents):
    provider = Context.of(home, people.provider)
    consent_actions.require(provider, "visits", True)
    first = next(iter(residents))
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    for rows, match in (
            ([], "no rows"),
            ([{"subject": first}, {"subject": "  "}], "row 2 of the consent file has no subject"),
            ([{"subject": first, "columns": "salary"}], "has no column 'salary'"),
            ([{"subject": first, "given_on": "31/12/2026"}], "must be a date"),
            ([{"subject": first, "given_on": tomorrow}], "once given"),
            ([{"subject": first, "given_on": "2026-01-02", "expires_on": "2026-01-01"}],
             "ends before it begins"),
            ([{"subject": first, "reference": "x" * 101}], "at most 100")):
        with refused(home, match):
            consent_actions.record(provider, "visits", rows)
    with refused(home, "no consent in force"):
        consent_actions.withdraw(provider, "visits", subjects=[first])
    with refused(home, "name the persons"):
        consent_actions.withdraw(provider, "visits", subjects=[" "])
    with refused(home, "needs the role"):
        consent_actions.record(Context.of(home, people.merchant), "visits", [{"subject": first}])
    with refused(home, "of yours"):  # another department's dataset
        consent_actions.record(Context.of(home, people.provider_b), "visits",
                               [{"subject": first}])
    with refused(home, "needs the role"):
        consent_actions.summary(Context.of(home, people.merchant), "visits")
    # The regulator reads, and changes nothing.
    assert consent_actions.summary(Context.of(home, people.regulator), "visits")["required"]
    with pytest.raises(Forbidden):
        consent_actions.require(Context.of(home, people.regulator), "visits", False)


def test_a_dataset_without_a_person_key_cannot_be_used_with_consent_and_fails_closed(
        home, people, grant_id):
    provider = Context.of(home, people.provider)
    with home.store.transaction() as s:
        datasets.classify(s, people.provider, "visits", person_key="")
    with refused(home, "has no person key"):
        consent_actions.require(provider, "visits", True)
    # Marked before its person key was removed: real jobs fail rather than see every row.
    with home.store.transaction() as s:
        datasets.classify(s, people.provider, "visits", person_key="resident_id")
    consent_actions.require(provider, "visits", True)
    with home.store.transaction() as s:
        datasets.classify(s, people.provider, "visits", person_key="")
    job_id = job(home, people, grant_id, "SELECT count(*) AS n FROM visits", name="closed")
    with home.store.read() as s:
        failed = s.get(Job, job_id)
        assert (failed.status, failed.error_class) == ("failed", "consent_unusable")


def test_a_consent_file_is_read_from_csv_in_gb18030(home, people, visits_file, tmp_path):
    register(home, people.provider, visits_file)
    provider = Context.of(home, people.provider)
    path = tmp_path / "consents.csv"
    path.write_bytes("subject,columns,given_on,expires_on,reference\n"
                     "110101199001011234,,2025-01-01,,同意书-1\n"
                     "110101199001015678,district;fee,2025-02-01,2030-01-01,同意书-2\n"
                     .encode("gb18030"))
    made = consent_actions.record_file(provider, "visits", path)
    assert made["recorded"] == 2
    listed = consent_actions.search(provider, "visits")
    assert {c["reference"] for c in listed} == {"同意书-1", "同意书-2"}
    assert [c["columns"] for c in listed if c["reference"] == "同意书-2"] == [["district", "fee"]]
    set_policy(home, max_consent_rows="1")
    with refused(home, "at most 1 consents, not 2"):
        consent_actions.record_file(Context.of(home, people.provider), "visits", path)
    (tmp_path / "bad.csv").write_text("subject,name\n1,张三\n", encoding="utf-8")
    with refused(home, "not 'name'"):
        consent_actions.record_file(provider, "visits", tmp_path / "bad.csv")


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_the_digest_ignores_surrounding_space_and_unicode_form_and_depends_on_the_key(value):
    key, other = consent.digest_key(b"k" * 32, "visits"), consent.digest_key(b"k" * 32, "other")
    assert consent.digest(key, value) == consent.digest(key, f"  {value}\t")
    import unicodedata

    assert consent.digest(key, unicodedata.normalize("NFD", value)) == consent.digest(key, value)
    assert consent.digest(key, value) != consent.digest(other, value)


def test_an_output_made_before_a_withdrawal_cannot_be_released_after_it(
        home, people, grant_id, residents):
    """The egress checks re-run the job over the consents in force when they run: an output
    that still holds a withdrawn person's rows no longer reproduces, and its disclosure check
    fails closed until the merchant runs the job again."""
    from tests.egress.test_egress import ask

    provider = Context.of(home, people.provider)
    consent_actions.require(provider, "visits", True)
    consent_actions.record(provider, "visits", [{"subject": r} for r in residents])
    made = job(home, people, grant_id, "SELECT district, count(*) AS visits FROM visits "
                                       "GROUP BY 1", name="before")
    consent_actions.withdraw(provider, "visits", subjects=list(residents)[:40])
    checks = {c["name"]: c for c in ask(home, people, made)["checks"]}
    assert checks["disclosure"]["verdict"] == "fail"
    assert checks["disclosure"]["code"] == "disclosure.not_reproduced"
    again = job(home, people, grant_id, "SELECT district, count(*) AS visits FROM visits "
                                        "GROUP BY 1", name="after")
    checks = {c["name"]: c for c in ask(home, people, again)["checks"]}
    assert checks["disclosure"]["code"] != "disclosure.not_reproduced"
