"""/api/v1 DP jobs and a grant's privacy budget."""

from __future__ import annotations

from tests.sandbox.test_dp import spec
from tests.service.test_api import auth, client  # noqa: F401 - a fixture


def test_a_dp_job_through_the_api_spends_the_budget_it_shows(client, people,  # noqa: F811
                                                             grant_id):
    token = people.tokens["merchant"]
    submitted = client.post("/api/v1/jobs/dp", headers=auth(token), json={
        "grant_id": grant_id, "spec": spec(epsilon=0.25), "output_name": "dp_api"})
    assert submitted.status_code == 202, submitted.json()
    job = submitted.json()
    assert job["dp"]["epsilon"] == 0.25 and job["dp"]["mechanisms"]["count"]
    # Spent at submission, whatever becomes of the job (a real job's outcome shows only at
    # its rounded duration: tests/sandbox/test_dp.py follows one to its end).
    budget = client.get(f"/api/v1/grants/{grant_id}/privacy-budget", headers=auth(token))
    assert budget.status_code == 200
    assert (budget.json()["spent"], budget.json()["remaining"]) == (0.25, 1.75)
    assert budget.json()["jobs"][0]["job_id"] == job["id"]


def test_bad_dp_requests_are_problems_not_tracebacks(client, people, grant_id):  # noqa: F811
    token = people.tokens["merchant"]
    for body, status, words in (
            ({"grant_id": grant_id, "spec": spec(epsilon=3), "output_name": "x"}, 422,
             "epsilon"),
            ({"grant_id": grant_id, "spec": "count everything", "output_name": "x"}, 422, ""),
            ({"grant_id": grant_id, "spec": spec(table="other"), "output_name": "x"}, 422,
             "not one")):
        answer = client.post("/api/v1/jobs/dp", headers=auth(token), json=body)
        assert answer.status_code == status, answer.json()
        assert words in str(answer.json())
    other = client.get(f"/api/v1/grants/{grant_id}/privacy-budget",
                       headers=auth(people.tokens["merchant_b"]))
    assert other.status_code == 404
