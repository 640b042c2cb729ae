"""Egress: automatic checks, independent reviews, signed bundles that verify offline."""

from __future__ import annotations

import json

import pytest

from egress import requesting, review
from egress.bundle import verify_bundle
from sandbox import jobs
from service.demo import CHECKLIST
from tests.conftest import apply, approve
from tests.helpers import refused

AGGREGATE = "SELECT district, count(*) AS visits FROM visits GROUP BY 1 HAVING count(*) >= 10"


def job(home, people, grant_id, sql=AGGREGATE, name="product"):
    with home.store.transaction() as s:
        job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id, sql, name).id
    home.run_job(job_id)
    return job_id


def ask(home, people, job_id, sources=("visits",), abroad=False, **options):
    with home.store.transaction() as s:
        return requesting.request(s, people.merchant, home.policy, home.data,
                                  home.pseudonym_secret,
                                  requesting.Ask(job_id, "统计表", "卫生规划", list(sources),
                                                 abroad, **options)).as_dict()


def vote(home, actor, request_id, approve=True, comment="同意", **options):
    options.setdefault("checklist", CHECKLIST)
    with home.store.transaction() as s:
        return review.vote(s, actor, home.policy, home.data, home.signer, request_id,
                           review.Ballot("approve" if approve is True else "reject"
                                         if approve is False else approve, comment, **options)
                           ).as_dict()


def verdicts(req):
    return {c["name"]: c["verdict"] for c in req["checks"]}


def granted(home, people, path, level="L3", columns=None, raw=()):
    """Register ``path`` as visits at ``level`` and grant the merchant ``columns`` of it."""
    from tests.conftest import register
    register(home, people.provider, path, level=level)
    app_id = apply(home, people.merchant, columns=columns, raw_columns=raw)
    return approve(home, people.reviewer, app_id, "ok").grant.id


def test_aggregate_passes_checks_and_two_approvals_release_a_verified_bundle(home, people,
                                                                             grant_id):
    req = ask(home, people, job(home, people, grant_id))
    assert verdicts(req) == {"scope": "pass", "sources": "pass", "raw_exposure": "pass",
                             "personal_information": "pass", "trade_secrets": "pass",
                             "disclosure": "pass", "differencing": "pass", "cross_border": "pass"}
    assert req["required_approvals"] == 2  # L3 data: two reviewers by policy
    first = vote(home, people.reviewer, req["id"])
    assert first["status"] == "in_review" and first["release_id"] is None
    done = vote(home, people.reviewer2, req["id"])
    assert done["status"] == "released"
    with home.store.read() as s:
        release = requesting.list_releases(s, people.merchant)[0]
        bundle = home.root / release.path
    pub = (home.keys_dir / "platform_ed25519.pub.pem").read_bytes()
    result = verify_bundle(bundle, pub)
    assert result["valid"], result["problems"]
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["sources"][0]["dataset"] == "visits"
    assert manifest["sources"][0]["sha256"]
    assert manifest["job"]["sql"] == AGGREGATE
    assert len(manifest["approvals"]) == 2


@pytest.mark.parametrize("damage", ["output", "manifest", "signature", "key"])
def test_a_damaged_bundle_does_not_verify(home, people, grant_id, damage, tmp_path):
    req = ask(home, people, job(home, people, grant_id))
    vote(home, people.reviewer, req["id"])
    vote(home, people.reviewer2, req["id"])
    with home.store.read() as s:
        bundle = home.root / requesting.list_releases(s, people.merchant)[0].path
    if damage == "output":
        with (bundle / "output.parquet").open("ab") as f:
            f.write(b"x")
    elif damage == "manifest":
        text = (bundle / "manifest.json").read_text().replace("统计表", "别的产品")
        (bundle / "manifest.json").write_text(text)
    elif damage == "signature":
        (bundle / "manifest.sig").write_text("AAAA" * 22 + "\n")
    else:
        from lineage import create_keypair
        other = create_keypair(tmp_path / "other", None)
        from lineage.signing import public_pem
        (bundle / "platform.pub.pem").write_bytes(public_pem(other.public))
    assert not verify_bundle(bundle)["valid"]


def test_pii_in_the_output_fails_and_cannot_be_approved(home, people, visits_file):
    grant_id = granted(home, people, visits_file, columns=["district", "mobile", "fee"],
                       raw=["mobile"])  # granted as real values, not pseudonyms
    req = ask(home, people, job(home, people, grant_id, "SELECT district, mobile FROM visits"))
    assert verdicts(req)["personal_information"] == "fail"
    assert "mobile" in next(c for c in req["checks"]
                            if c["name"] == "personal_information")["columns"]
    assert verdicts(req)["raw_exposure"] == "fail"  # mobile traces to a raw identifier column
    with refused(home, "asked for no exception", "forbidden"):
        vote(home, people.reviewer, req["id"])


def test_pseudonyms_are_personal_information_known_by_provenance(home, people, visits_file):
    grant_id = granted(home, people, visits_file, columns=["district", "mobile", "resident_id"])
    req = ask(home, people, job(home, people, grant_id,
                                "SELECT district, mobile, resident_id FROM visits"))
    check = next(c for c in req["checks"] if c["name"] == "personal_information")
    assert check["verdict"] == "fail" and set(check["columns"]) == {"mobile", "resident_id"}
    assert check["details"]["pseudonymized"] == {"mobile": "visits.mobile",
                                                 "resident_id": "visits.resident_id"}
    # Counting persons by their pseudonym is fine: the pseudonym does not leave.
    counts = ask(home, people, job(home, people, grant_id,
                                   "SELECT district, count(DISTINCT resident_id) AS persons "
                                   "FROM visits GROUP BY 1 HAVING count(*) >= 10", "persons"))
    assert verdicts(counts)["personal_information"] == "pass"


def test_a_value_that_looks_like_a_pseudonym_is_scanned_like_any(home, people, visits_file):
    # A raw identifier padded to 32 hex digits is no pseudonym: it is scanned, and fails.
    grant_id = granted(home, people, visits_file, "L2", ["district", "mobile"])
    req = ask(home, people, job(home, people, grant_id,
                                "SELECT district, lpad(mobile, 32, 'f') AS m FROM visits"))
    assert verdicts(req)["personal_information"] == "fail"


def test_undeclared_sources_fail(home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id), sources=["somewhere_else"])
    assert verdicts(req)["sources"] == "fail"


def test_abroad_needs_an_extra_approval(home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id), abroad=True)
    assert verdicts(req)["cross_border"] == "review"
    assert req["required_approvals"] == 3


def test_reviewers_of_the_requesting_organization_are_refused(home, people, grant_id):
    from accounts.users import add_user
    from policies import OPERATOR
    with home.store.transaction() as s:
        insider = add_user(s, OPERATOR, "insider", "reviewer", "粤数科技")[0].actor()
    req = ask(home, people, job(home, people, grant_id))
    with refused(home, "own organization", "forbidden"):
        vote(home, insider, req["id"])


def test_a_reviewer_votes_once_and_a_rejection_is_final(home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id))
    vote(home, people.reviewer, req["id"])
    with refused(home, "voted on this round", "conflict"):
        vote(home, people.reviewer, req["id"])
    assert vote(home, people.reviewer2, req["id"], approve=False, comment="小格风险")["status"] \
        == "rejected"
    with refused(home, "not awaiting review", "conflict"):
        vote(home, people.reviewer2, req["id"])


def test_other_organizations_cannot_request_or_download(home, people, grant_id):
    job_id = job(home, people, grant_id)
    with refused(home, f"no job {job_id}", "not_found"), home.store.transaction() as s:
        requesting.request(s, people.merchant_b, home.policy, home.data, home.pseudonym_secret,
                           requesting.Ask(job_id, "p", "p", ["visits"]))
    req = ask(home, people, job_id)
    vote(home, people.reviewer, req["id"])
    vote(home, people.reviewer2, req["id"])
    with home.store.read() as s:
        release_id = requesting.list_releases(s, people.merchant)[0].id
    with refused(home, f"no release {release_id}", "not_found"), home.store.transaction() as s:
        requesting.download(s, people.merchant_b, home.data, release_id)


def test_failed_job_has_nothing_to_release(home, people, grant_id):
    job_id = job(home, people, grant_id, "SELECT patient_name FROM visits")
    with refused(home, "no real output to release"):
        ask(home, people, job_id)


@pytest.mark.parametrize("level", ["L1", "L2", "L3"])
def test_row_level_outputs_need_k_anonymity_at_every_level(home, people, visits_file, level):
    from catalog import datasets

    grant = granted(home, people, visits_file, level)
    rows = job(home, people, grant, "SELECT district, department, fee FROM visits", "rows")
    # No quasi-identifier tagged: k cannot be measured, so the check fails (never "review").
    untagged = ask(home, people, rows)
    raw = next(c for c in untagged["checks"] if c["name"] == "raw_exposure")
    assert raw["verdict"] == "fail" and "quasi-identifier" in raw["message"]
    with home.store.transaction() as s:
        datasets.classify(s, people.provider, "visits", quasi_identifiers=["district", "department"])
    tagged = ask(home, people, job(home, people, grant,
                                   "SELECT district, department, fee FROM visits", "rows2"))
    raw = next(c for c in tagged["checks"] if c["name"] == "raw_exposure")
    assert raw["verdict"] == "fail" and raw["details"]["k_min"] == home.policy.level(level).k_min
    assert raw["details"]["k_reached"] is False


@pytest.mark.parametrize("sql", [
    # the cells of these cannot be traced to their contributors: the checks fail closed
    "SELECT district, max(any_value(fee)) OVER (PARTITION BY district) AS m FROM visits "
    "GROUP BY district",
    "SELECT district, count(*) AS n FROM (SELECT * FROM visits) s GROUP BY 1",
    "WITH v AS (SELECT * FROM visits) SELECT district, count(*) AS n FROM v GROUP BY 1",
])
def test_disclosure_fails_closed_when_it_cannot_be_measured(home, people, grant_id, sql):
    req = ask(home, people, job(home, people, grant_id, sql))
    assert verdicts(req)["disclosure"] == verdicts(req)["differencing"] == "fail"
    check = next(c for c in req["checks"] if c["name"] == "disclosure")
    assert "contributors" in check["message"] or "window" in check["message"]


def test_a_filtered_aggregate_is_measured_with_its_filter(home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id, "SELECT district, sum(fee) FILTER "
                                "(WHERE age > 30) AS s FROM visits GROUP BY 1"))
    check = next(c for c in req["checks"] if c["name"] == "disclosure")
    assert check["details"]["shape"] == "aggregate" and check["details"]["cells"] > 0


def _contributors(req):
    check = next(c for c in req["checks"] if c["name"] == "disclosure")
    return check["verdict"], check["details"].get("counts", {})


def test_contributors_are_persons_not_rows(home, people, grant_id):
    # Multiplying rows (a cross join with range(), a self-join) adds no contributor: the small
    # cells stay small.
    cells = "a.district, a.department, a.age"
    found = {}
    for name, source in (("plain", "visits a"), ("tenfold", "visits a, range(10)"),
                         ("self_join", "visits a JOIN visits b ON a.district = b.district "
                                       "AND a.department = b.department")):
        sql = f"SELECT {cells}, count(*) AS n FROM {source} GROUP BY ALL"
        found[name] = _contributors(ask(home, people, job(home, people, grant_id, sql, name)))
    assert found["plain"][0] == "fail" and found["plain"][1]["threshold"] > 0
    assert found["tenfold"] == found["plain"]
    assert found["self_join"][1]["threshold"] >= found["plain"][1]["threshold"]


def test_a_person_with_many_rows_is_one_contributor(home, people, visits_file, tmp_path):
    import pyarrow.parquet as pq

    table = pq.read_table(visits_file)
    same = table.set_column(table.column_names.index("resident_id"), "resident_id",
                            [[table.column("resident_id")[0].as_py()] * table.num_rows])
    pq.write_table(same, tmp_path / "one_person.parquet")
    grant = granted(home, people, tmp_path / "one_person.parquet")
    req = ask(home, people, job(home, people, grant,
                                "SELECT district, count(*) AS n FROM visits GROUP BY 1"))
    verdict, counts = _contributors(req)
    assert verdict == "fail" and counts["threshold"] == len(set(table.column("district")))


@pytest.mark.parametrize("one_person", [False, True])
def test_dominance_is_judged_on_persons_totals_not_rows(home, people, visits_file, tmp_path,
                                                        one_person):
    """Twenty visits of 500 in the busiest district beside others' visits of 1: no two rows
    dominate the district's sum; when the twenty are one person's, that person's total does
    (NK 2, 0.9) though the district still has enough persons."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(visits_file)
    districts = table.column("district").to_pylist()
    busiest = max(set(districts), key=districts.count)
    ids = table.column("resident_id").to_pylist()
    first = [i for i, d in enumerate(districts) if d == busiest][:20]
    fees = [500.0 if i in first else 1.0 for i in range(table.num_rows)]
    persons = [ids[first[0]] if one_person and i in first else v for i, v in enumerate(ids)]
    table = table.set_column(table.column_names.index("fee"), "fee", pa.array(fees))
    table = table.set_column(table.column_names.index("resident_id"), "resident_id",
                             pa.array(persons))
    pq.write_table(table, tmp_path / "visits.parquet")
    grant = granted(home, people, tmp_path / "visits.parquet")
    verdict, counts = _contributors(ask(home, people, job(
        home, people, grant, "SELECT district, sum(fee) AS total FROM visits GROUP BY 1 "
        "HAVING count(*) >= 10")))
    assert counts.get("threshold", 0) == 0, counts
    if one_person:
        assert verdict == "fail" and counts["nk_rule"] == 1, counts
    else:
        assert counts.get("nk_rule", 0) == 0, counts


@pytest.mark.parametrize("sql", [
    "SELECT department, mode(district) AS m FROM visits GROUP BY 1",
    "SELECT district, quantile_disc(fee, 1.0) AS q FROM visits GROUP BY 1",
    "SELECT district, max(fee) AS top FROM visits GROUP BY 1",
    "SELECT district, min(CASE WHEN age = 40 THEN fee END) AS x FROM visits GROUP BY 1",
])
def test_statistics_that_are_one_contributors_value_fail(home, people, grant_id, sql):
    verdict, counts = _contributors(ask(home, people, job(home, people, grant_id, sql)))
    assert verdict == "fail" and counts.get("unsafe_statistic", 0) > 0


def test_aggregate_values_traced_to_raw_identifiers_fail(home, people, visits_file):
    grant = granted(home, people, visits_file, "L2", ["district", "resident_id"])
    laundered = ask(home, people, job(home, people, grant,
                                      "SELECT district, sum(CAST(substr(resident_id, 7, 8) AS "
                                      "BIGINT)) AS s FROM visits GROUP BY 1 "
                                      "HAVING count(*) >= 10", "s"))
    assert verdicts(laundered)["raw_exposure"] == "fail"
    counted = ask(home, people, job(home, people, grant,
                                    "SELECT district, count(DISTINCT resident_id) AS persons "
                                    "FROM visits GROUP BY 1 HAVING count(*) >= 10", "c"))
    assert verdicts(counted)["raw_exposure"] == "pass"


def test_a_whole_row_behind_a_table_alias_traces_to_every_column(home, people, visits_file):
    # `v` alone is the row of visits as a STRUCT: hashed or cast to JSON it carries the raw ID.
    from egress import checks
    from sandbox.models import Job

    grant = granted(home, people, visits_file, "L2", ["district", "resident_id"])
    job_id = job(home, people, grant, "SELECT district, md5(to_json(v)) AS h FROM visits v", "h")
    with home.store.read() as s:
        traced = checks.lineage(s, s.get(Job, job_id))
    assert ["visits", "resident_id"] in traced["columns"]["h"]
    req = ask(home, people, job_id)
    assert verdicts(req)["raw_exposure"] == "fail"


def test_the_statistics_run_must_reproduce_the_released_file(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from egress.assess import align

    released = pa.table({"district": ["a", "b"], "n": [12, 30], "mean": [1.5, 2.25]})
    pq.write_table(released, tmp_path / "out.parquet")

    def stats(n, mean, order=(0, 1)):
        table = pa.table({"district": ["a", "b"], "n": n, "mean": mean, "tds__0_n": [12, 30]})
        return table.take(pa.array(order))

    same = align(tmp_path / "out.parquet", stats([12, 30], [1.5, 2.25], (1, 0)), ["district"])
    assert same is not None and same.column("district").to_pylist() == ["a", "b"]
    jitter = stats([12, 30], [1.5 * (1 + 1e-13), 2.25])  # a parallel sum in another order
    assert align(tmp_path / "out.parquet", jitter, ["district"]) is not None
    # A value the released file does not hold (a clock, a random draw): nothing is assessed.
    assert align(tmp_path / "out.parquet", stats([12, 31], [1.5, 2.25]), ["district"]) is None
    assert align(tmp_path / "out.parquet", stats([12, 30], [1.5, 2.5]), ["district"]) is None


def test_a_policy_can_require_context_and_controls_before_submission(home, people, grant_id):
    from tests.helpers import set_policy

    set_policy(home, context_required="true")
    job_id = job(home, people, grant_id)
    with refused(home, "describe the output for its reviewers"):
        ask(home, people, job_id, context="各区门诊人次")  # controls missing
    draft = ask(home, people, job_id, draft=True)  # a draft may wait for them
    assert draft["status"] == "draft"
    with refused(home, "describe the output"), home.store.transaction() as s:
        requesting.resubmit(s, people.merchant, home.policy, home.data, home.pseudonym_secret,
                            draft["id"], requesting.Change(context="各区门诊人次"))
    with home.store.transaction() as s:
        done = requesting.resubmit(s, people.merchant, home.policy, home.data,
                                   home.pseudonym_secret, draft["id"],
                                   requesting.Change(context="各区门诊人次",
                                                     controls="每格不少于 10 人")).as_dict()
    assert done["status"] == "submitted" and done["controls"] == "每格不少于 10 人"


def test_a_simulated_output_is_never_released(home, people, grant_id):
    with home.store.transaction() as s:
        job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id,
                             "SELECT district FROM visits", "", "simulated").id
    home.run_job(job_id)
    with refused(home, "ran on simulated data: only outputs of real data are released"):
        ask(home, people, job_id)
