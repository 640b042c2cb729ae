"""The whole flow with its data on S3-compatible object storage (TDS_STORAGE=s3://...): every
file the platform keeps is an object in the bucket, each machine holds only a cache, and a
machine with an empty cache carries on where another left off. moto's server stands in for
the object store, which runs outside the product."""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq
import pytest

from catalog import applications
from egress import requesting
from egress.bundle import verify_bundle
from lineage import verify_ledger
from sandbox import jobs
from service.home import Home
from tests.conftest import apply, approve, register
from tests.egress.test_egress import AGGREGATE, ask, vote
from vault import KeyDestroyed, keys
from vault.files import is_encrypted


@pytest.fixture
def s3_home(home: Home, s3_uri: str) -> Home:
    home.storage = s3_uri
    home.init()
    return home


def new_machine(home: Home) -> None:
    """What another machine would see: nothing cached yet."""
    shutil.rmtree(home.data.root, ignore_errors=True)


def unreachable(uri: str) -> str:
    """``uri`` with its endpoint moved to a port nobody listens on."""
    import re
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return re.sub(r"endpoint_override=[^&]+", f"endpoint_override=127.0.0.1:{port}&retries=1",
                  uri)


def objects(home: Home, folder: str) -> list[str]:
    return home.data.files(folder)


def test_the_whole_flow_keeps_its_files_in_the_bucket(s3_home, people, visits_file):
    home = s3_home
    register(home, people.provider, visits_file)
    assert objects(home, "datasets") == ["datasets/visits/v1.parquet"]
    assert not (home.root / "datasets" / "visits").exists(), "the dataset is not kept locally"
    # An L3 dataset: the object in the bucket is encrypted with the dataset's data key.
    assert is_encrypted(home.data.fetch("datasets/visits/v1.parquet"))
    app_id = apply(home, people.merchant)
    grant_id = approve(home, people.reviewer, app_id).grant.id
    with home.store.transaction() as s:
        trial = jobs.submit(s, people.merchant, home.policy, home.data, grant_id,
                            "SELECT district, count(*) AS n FROM visits GROUP BY 1", "trial",
                            target="simulated").id
        real = jobs.submit(s, people.merchant, home.policy, home.data, grant_id, AGGREGATE,
                           "product").id
    new_machine(home)
    assert home.run_job(trial).status == "succeeded"
    new_machine(home)
    job = home.run_job(real)
    assert job.status == "succeeded", job.error
    outputs = objects(home, f"workspaces/{grant_id}")
    assert f"workspaces/{grant_id}/outputs/product.parquet" in outputs
    assert f"workspaces/{grant_id}/simulated/trial.parquet" in outputs
    assert is_encrypted(home.data.fetch(f"workspaces/{grant_id}/outputs/product.parquet"))
    assert not any("stage-" in o for o in outputs), "stages are derived and stay on the machine"
    new_machine(home)
    with home.store.read() as s:  # the simulated result shows from another machine
        shown = jobs.view(home.data, home.policy, jobs.get(s, people.merchant, trial),
                          people.merchant)["result"]
    assert shown["simulated"] and shown["rows"]

    new_machine(home)
    req = ask(home, people, real)
    assert {c["name"]: c["verdict"] for c in req["checks"]}["disclosure"] == "pass"
    assert objects(home, f"egress/{req['id']}"), "the findings are stored"
    new_machine(home)
    vote(home, people.reviewer, req["id"])
    new_machine(home)
    assert vote(home, people.reviewer2, req["id"])["status"] == "released"
    with home.store.read() as s:
        (release,) = [(r.id, r.path) for r in requesting.list_releases(s, people.merchant)]
    stored = objects(home, release[1])
    assert {p.rsplit("/", 1)[1] for p in stored} >= {
        "manifest.json", "manifest.sig", "output.parquet", "platform.pub.pem",
        "ledger-proof.json"}

    new_machine(home)
    with home.store.transaction() as s:
        bundle = requesting.download(s, people.merchant, home.data, release[0])
    checked = verify_bundle(bundle, (home.keys_dir / "platform_ed25519.pub.pem").read_bytes())
    assert checked["valid"] and checked["logged"], checked["problems"]
    assert pq.read_table(bundle / "output.parquet").num_rows == job.output_rows

    # The grant ends: what the merchant retained goes from the bucket and from this machine.
    with home.store.transaction() as s:
        applications.revoke(s, people.admin, home.policy, grant_id, "合同终止", home.data)
    assert objects(home, f"workspaces/{grant_id}") == []
    with home.store.read() as s, pytest.raises(KeyDestroyed):
        keys.get(s, "grant", grant_id)  # any copy of the grant's objects is unreadable now
    assert not home.data.local(f"workspaces/{grant_id}").exists()
    with home.store.read() as s:
        assert verify_ledger(s, home.genesis_public_key, home.witness_path, home.origin).valid


def test_object_storage_out_of_reach_refuses_an_upload_clearly_and_keeps_nothing(
        home, people, visits_file, monkeypatch):
    from storage.errors import StorageUnavailable
    from tests.helpers import refused

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    home.storage = unreachable("s3://gone/tds?endpoint_override=x&scheme=http&region=us-east-1")
    with refused(home, "object storage .* did not answer", "unavailable") as info:
        register(home, people.provider, visits_file)
    assert isinstance(info.value, StorageUnavailable)


def test_the_api_answers_503_while_the_object_storage_is_out_of_reach(
        s3_home, people, visits_file):
    from fastapi.testclient import TestClient

    from service.api.app import create_app
    from tests.helpers import snapshot

    home = s3_home
    reachable = home.storage

    def upload(client, name):
        with visits_file.open("rb") as f:
            return client.post(
                "/api/v1/datasets", headers={"Authorization": f"Bearer {people.tokens['provider']}"},
                files={"file": ("visits.parquet", f, "application/octet-stream")},
                data={"name": name, "title": "门诊记录", "domain": "health", "level": "L3",
                      "attribute": "conditional"})

    with TestClient(create_app(home, workers=0)) as client:
        before = snapshot(home)
        home.storage = unreachable(reachable)
        refused = upload(client, "visits")
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
        assert "object storage" in refused.json()["detail"]
        assert snapshot(home) == before, "nothing registered, nothing kept"
        home.storage = reachable  # back: the same upload goes through
        assert upload(client, "visits").status_code == 201
    assert objects(home, "datasets") == ["datasets/visits/v1.parquet"]
