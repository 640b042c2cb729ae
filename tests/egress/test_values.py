"""Reviewers read the values of the output they sign, flagged cells marked in place and
labelled by their group keys; merchants, and reviewers of the merchant's organization, do not."""

from __future__ import annotations

from sqlalchemy import update

from egress import values
from egress.models import EgressRequest
from sandbox.models import Job
from tests.egress.test_egress import ask, job
from tests.helpers import read_stored, refused

SMALL = "SELECT district, department, count(*) AS n FROM visits GROUP BY 1, 2 ORDER BY 1, 2"


def read(home, actor, request_id, **options):
    with home.store.read() as s:
        return values.page(s, actor, home.data, request_id, **options)


def test_a_reviewer_reads_the_values_with_flagged_cells_in_place(home, people, grant_id):
    job_id = job(home, people, grant_id, SMALL, "small")
    req = ask(home, people, job_id)
    disclosure = next(c for c in req["checks"] if c["name"] == "disclosure")
    assert disclosure["verdict"] == "fail" and disclosure["details"]["keys"] == [
        "district", "department"]
    page = read(home, people.reviewer, req["id"], limit=500)
    with home.store.read() as s:
        output = read_stored(home, s.get(Job, job_id).output_path).to_pylist()
    assert page["columns"] == ["district", "department", "n"]
    assert page["total_rows"] == len(output) and len(page["rows"]) == len(output)
    assert [r["cells"] for r in page["rows"]] == [list(o.values()) for o in output]
    flagged = [r for r in page["rows"] if r["flags"]]
    assert flagged and page["flagged_rows"] == len(flagged)
    first = flagged[0]
    row = output[first["row"]]
    assert "n" in first["flags"] and "threshold" in first["flags"]["n"]
    assert first["label"] == f"district={row['district']} · department={row['department']}"
    assert all(r["label"] is None for r in page["rows"] if not r["flags"])


def test_flagged_rows_only_and_paging(home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id, SMALL, "small"))
    only = read(home, people.reviewer, req["id"], flagged_only=True, limit=2)
    assert len(only["rows"]) == 2 and all(r["flags"] for r in only["rows"])
    later = read(home, people.reviewer, req["id"], flagged_only=True, offset=2, limit=2)
    assert {r["row"] for r in later["rows"]}.isdisjoint({r["row"] for r in only["rows"]})


def test_merchants_and_same_organization_reviewers_read_no_values(home, people, grant_id):
    req = ask(home, people, job(home, people, grant_id, SMALL, "small"))
    with refused(home, "needs the role", "forbidden"):
        read(home, people.merchant, req["id"])
    with home.store.transaction() as s:  # the reviewer works for the merchant's organization
        s.execute(update(EgressRequest).where(EgressRequest.id == req["id"])
                  .values(org=people.reviewer.org))
    with refused(home, "own organization", "forbidden"):
        read(home, people.reviewer, req["id"])
    assert read(home, people.admin, req["id"])["total_rows"] > 0
