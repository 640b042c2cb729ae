"""Catalog previews: built after registration, labelled, reported, failures recorded, and the
data of the sandbox's simulated target."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from catalog import datasets, previews
from lineage import LedgerEvent
from tests.conftest import register
from tests.helpers import read_stored


def version_id(home, name="visits"):
    with home.store.read() as s:
        return datasets.get(s, name).latest.id


def on_latest(home, fn, name="visits"):
    """``fn(version)`` while the version is bound to a session."""
    with home.store.read() as s:
        return fn(datasets.get(s, name).latest)


def test_a_built_preview_is_labelled_reported_and_holds_no_real_value(home, people, visits_file):
    register(home, people.provider, visits_file)
    state = previews.build(home.store.transaction, home.data, home.policy, version_id(home))
    assert state["status"] == "ready", state["error"]
    report = state["report"]
    assert report["exact_row_matches"] == 0 and report["reused_identifier_values"] == 0
    assert report["quality"] >= 0.8 and report["rows"] == home.policy.preview_rows
    shown = on_latest(home, lambda v: previews.show(home.data, v, rows=5))
    assert shown["simulated"] and "simulated" in shown["label"] and len(shown["rows"]) == 5
    assert shown["full_report"]["dcr"] is not None
    real = pq.read_table(visits_file)
    preview = pq.read_table(on_latest(home, lambda v: home.data.local(previews.preview_path(v))))
    assert preview.column_names == real.column_names
    for column in ("patient_name", "resident_id", "mobile", "address", "visit_id"):
        assert not pc.any(pc.is_in(preview.column(column),
                                   value_set=real.column(column))).as_py(), column
    with home.store.read() as s:
        actions = [e.action for e in s.query(LedgerEvent).order_by(LedgerEvent.seq)]
    assert actions[-2:] == ["preview.building", "preview.built"]


def test_a_failed_build_is_recorded_and_the_placeholder_stays_in_use(home, people, visits_file,
                                                                   monkeypatch):
    import synth.simulate

    register(home, people.provider, visits_file)

    def broken(*args, **kwargs):
        raise MemoryError("no room to fit")
    monkeypatch.setattr(synth.simulate, "simulate", broken)
    state = previews.build(home.store.transaction, home.data, home.policy, version_id(home))
    assert state["status"] == "failed" and "no room to fit" in state["error"]
    with home.store.read() as s:
        assert s.query(LedgerEvent).filter_by(action="preview.failed").count() == 1
    used = on_latest(home, lambda v: previews.ensure_preview(home.data, v, 100))
    assert used.name.endswith(".placeholder.parquet")
    assert on_latest(home, lambda v: previews.show(home.data, v, 5))["rows"] == []


def test_the_simulated_target_runs_on_the_ready_preview(home, people, grant_id):
    from sandbox import jobs
    previews.build(home.store.transaction, home.data, home.policy, version_id(home))
    with home.store.transaction() as s:
        job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id,
                             "SELECT district, count(*) AS n FROM visits GROUP BY 1", "d",
                             target="simulated").id
    job = home.run_job(job_id)
    assert job.status == "succeeded", job.error
    rows = jobs.view(home.data, home.policy, job, people.merchant)["result"]["rows"]
    assert sum(r[1] for r in rows) == home.policy.preview_rows
    assert not any(str(r[0]).startswith("district_") for r in rows)  # not the placeholder
    path = on_latest(home, lambda v: home.root / v.path)
    real = set(read_stored(home, path).column("district").to_pylist())
    assert {r[0] for r in rows} <= real | {"其他", None}


def test_preview_from_the_cli_and_the_api(home, people, visits_file):
    from fastapi.testclient import TestClient

    from service.api.app import create_app
    register(home, people.provider, visits_file)
    with TestClient(create_app(home)) as client:
        headers = {"Authorization": f"Bearer {people.tokens['merchant']}"}
        pending = client.get("/api/v1/datasets/visits/preview", headers=headers).json()
        assert pending["status"] == "pending" and pending["rows"] == []
        previews.build(home.store.transaction, home.data, home.policy, version_id(home))
        ready = client.get("/api/v1/datasets/visits/preview?rows=3", headers=headers).json()
        assert ready["status"] == "ready" and len(ready["rows"]) == 3
        assert ready["columns"] == pa.parquet.read_schema(visits_file).names
