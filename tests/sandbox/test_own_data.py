"""A merchant's own data in its workspace: scanned, joined on both targets, counted by egress,
deleted with the workspace; PII the merchant may not bring is refused and changes nothing."""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from actions import Context
from actions import applications as application_actions
from actions import own_data as own_actions
from lineage import LedgerEvent
from sandbox import jobs, own_data
from service import demo_data
from tests.helpers import refused


@pytest.fixture(scope="module")
def sales_file(tmp_path_factory):
    """The merchant's own table: sales per customer in each district (no PII)."""
    rng = random.Random(5)
    rows = 600
    table = pa.table({
        "customer_no": [f"C{rng.randrange(150):05d}" for _ in range(rows)],
        "district": [rng.choice(demo_data.DISTRICTS) for _ in range(rows)],
        "revenue": [round(rng.uniform(10, 500), 2) for _ in range(rows)]})
    path = tmp_path_factory.mktemp("own") / "sales.csv"
    return demo_data.write(table, path)


@pytest.fixture(scope="module")
def pii_file(tmp_path_factory):
    visits = demo_data.hospital_visits(200, seed=11).select(["resident_id", "district", "fee"])
    path = tmp_path_factory.mktemp("own") / "customers.parquet"
    pq.write_table(visits, path)
    return path


def upload(home, people, grant_id, path, name="sales", person_key="customer_no",
           preview=False):
    """Upload as the merchant; the simulated preview (SDV, seconds) only with ``preview``:
    until then the simulated side is the schema-only placeholder."""
    if preview:
        return own_actions.upload(Context.of(home, people.merchant), grant_id, path, name,
                                  person_key)
    with home.store.transaction() as s:
        return own_data.upload(s, people.merchant, home.policy, home.data, grant_id, path,
                               name, person_key).as_dict()


def run(home, people, grant_id, sql, output, target="real"):
    with home.store.transaction() as s:
        job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id, sql, output,
                             target).id
    home.run_job(job_id)
    with home.store.read() as s:
        job = jobs.get(s, people.merchant, job_id)
        return job.as_dict() | {"result": jobs.shown_rows(home.data, job, 20)}


JOIN = ("SELECT v.district, count(*) AS visits, sum(o.revenue) AS revenue FROM visits v "
        "JOIN sales o USING (district) GROUP BY 1")


def test_an_own_table_is_scanned_and_joined_on_both_targets(home, people, grant_id,
                                                            sales_file):
    own = upload(home, people, grant_id, sales_file, preview=True)
    assert (own["name"], own["rows"], own["level"], own["entities"]) == ("sales", 600, "L1", {})
    assert own["preview_status"] == "ready"  # its simulated side, built like a catalog preview
    real = run(home, people, grant_id, JOIN, "joined")
    assert real["status"] == "succeeded", real["error"]
    assert real["sources"]["sales"] == {"kind": "own", "own_id": own["id"],
                                        "sha256": own["sha256"],
                                        "columns": ["customer_no", "district", "revenue"]}
    assert real["result"] is None  # real rows stay inside, as for any job
    simulated = run(home, people, grant_id, JOIN, "joined_sim", "simulated")
    assert simulated["status"] == "succeeded", simulated["error"]
    assert simulated["result"]["columns"] == ["district", "visits", "revenue"]
    # The simulated side reuses no real value of the own table.
    real_customers = set(pq.read_table(sales_file).column("customer_no").to_pylist()) \
        if sales_file.suffix == ".parquet" else None
    with home.store.read() as s:
        stored = own_data.active(s, grant_id)[0]
        preview = pq.read_table(home.data.fetch(stored.preview_path()))
    assert preview.num_rows > 0 and preview.column_names == ["customer_no", "district",
                                                             "revenue"]
    if real_customers:
        assert not set(preview.column("customer_no").to_pylist()) & real_customers


def test_the_ledger_records_the_upload_without_values(home, people, grant_id, sales_file):
    own = upload(home, people, grant_id, sales_file)
    with home.store.read() as s:
        payloads = s.scalars(select(LedgerEvent.payload).where(
            LedgerEvent.action == "own_data.uploaded")).all()
    assert len(payloads) == 1
    uploaded = json.loads(payloads[0])
    assert uploaded["sha256"] == own["sha256"] and uploaded["rows"] == 600
    assert "C0" not in payloads[0] and "区" not in payloads[0]  # no customer, no district


def test_a_file_with_pii_the_merchant_may_not_hold_is_refused(home, people, grant_id, pii_file):
    with refused(home, "column 'resident_id' holds personal information \\(CN_RESIDENT_ID\\)"):
        upload(home, people, grant_id, pii_file, "customers", None)


def test_bad_names_and_person_keys_are_refused_and_change_nothing(home, people, grant_id,
                                                                  sales_file):
    for name, key, message in (("visits", "customer_no", "already has a table named"),
                               ("tds_x", "customer_no", "reserved"),
                               ("1bad", "customer_no", "table name"),
                               ("sales", "client", "no column 'client'")):
        with refused(home, message):
            upload(home, people, grant_id, sales_file, name, key)


def test_another_organization_can_neither_upload_nor_see_nor_delete(home, people, grant_id,
                                                                    sales_file):
    own = upload(home, people, grant_id, sales_file)
    other = Context.of(home, people.merchant_b)
    with refused(home, "grant"):
        own_actions.upload(other, grant_id, sales_file, "mine")
    with refused(home, "no own table"):
        own_actions.delete(other, own["id"])


def test_egress_counts_the_own_tables_persons(home, people, grant_id, sales_file):
    """An aggregate of the own table alone with cells of few customers fails disclosure
    control: its persons are counted by its person key, like any source's."""
    from tests.egress.test_egress import ask

    upload(home, people, grant_id, sales_file)
    small = run(home, people, grant_id, "SELECT customer_no, sum(revenue) AS revenue FROM sales "
                                        "GROUP BY 1", "per_customer")
    checks = {c["name"]: c for c in ask(home, people, small["id"], sources=("sales",))["checks"]}
    assert checks["disclosure"]["verdict"] == "fail"
    assert checks["scope"]["verdict"] != "fail"  # its columns are the merchant's own
    joined = run(home, people, grant_id, JOIN, "joined")
    checks = {c["name"]: c for c in ask(home, people, joined["id"])["checks"]}
    assert checks["sources"]["verdict"] == "fail"  # the own table is a source to declare


def test_own_tables_go_with_the_workspace_when_the_grant_ends(home, people, grant_id,
                                                              sales_file):
    own = upload(home, people, grant_id, sales_file, preview=True)
    with home.store.read() as s:
        stored = own_data.active(s, grant_id)[0]
        files = [stored.path, stored.preview_path()]
    assert all(home.data.exists(f) for f in files)
    application_actions.revoke(Context.of(home, people.admin), grant_id, "违规使用")
    assert not any(home.data.exists(f) for f in files)
    listed = own_actions.listing(Context.of(home, people.merchant), grant_id)
    assert [(o["id"], o["status"]) for o in listed] == [(own["id"], "deleted")]
    with home.store.read() as s:
        deleted = s.scalars(select(LedgerEvent.payload).where(
            LedgerEvent.action == "own_data.deleted")).all()
    assert [json.loads(p)["by"] for p in deleted] == ["grant_end"]


def test_a_merchant_deletes_its_own_table_and_jobs_no_longer_see_it(home, people, grant_id,
                                                                    sales_file):
    own = upload(home, people, grant_id, sales_file)
    done = own_actions.delete(Context.of(home, people.merchant), own["id"])
    assert done["status"] == "deleted"
    with pytest.raises(Exception, match="no table 'sales'"):
        run(home, people, grant_id, JOIN, "after")
    with refused(home, "deleted already"):
        own_actions.delete(Context.of(home, people.merchant), own["id"])


def test_a_product_made_with_own_data_names_it_in_its_signed_manifest(home, people, grant_id,
                                                                      sales_file):
    from egress import requesting
    from tests.egress.test_egress import ask, verdicts, vote

    own = upload(home, people, grant_id, sales_file)
    joined = run(home, people, grant_id,
                 "SELECT v.district, count(DISTINCT o.customer_no) AS customers FROM visits v "
                 "JOIN sales o USING (district) GROUP BY 1 HAVING count(*) >= 10", "joined")
    req = ask(home, people, joined["id"], sources=("visits", "sales"))
    assert set(verdicts(req).values()) == {"pass"}, req["checks"]
    vote(home, people.reviewer, req["id"])
    assert vote(home, people.reviewer2, req["id"])["status"] == "released"
    with home.store.read() as s:
        path = requesting.list_releases(s, people.merchant)[0].path
    manifest = json.loads((home.root / path / "manifest.json").read_text())
    assert manifest["own_data"] == [{"table": "sales", "own_id": own["id"],
                                     "sha256": own["sha256"]}]
    assert [s["dataset"] for s in manifest["sources"]] == ["visits"]


def test_an_own_table_is_a_node_of_the_lineage_graph(home, people, grant_id, sales_file):
    from reporting import graph

    own = upload(home, people, grant_id, sales_file)
    joined = run(home, people, grant_id, JOIN, "joined")
    with home.store.read() as s:
        built = graph.build(s)
    node = f"own_data:{own['id']}"
    assert built.nodes[node]["sha256"] == own["sha256"]
    assert (node, f"job:{joined['id']}") in built.edges


def test_a_name_an_output_holds_is_refused(home, people, grant_id, sales_file):
    assert run(home, people, grant_id, "SELECT 1 AS x", "sales")["status"] == "succeeded"
    with refused(home, "already has a table named"):
        upload(home, people, grant_id, sales_file)
