"""Encryption at rest through the whole flow: sensitive datasets, a grant's stage, outputs,
own tables and egress findings are unreadable on disk without their data keys; jobs, checks
and releases read them; a grant that ends takes its key with it (crypto-shredding)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from catalog import applications
from egress import requesting
from egress.bundle import verify_bundle
from egress.models import EgressRequest
from lineage import LedgerEvent
from sandbox import jobs, memory
from sandbox.models import Job
from sandbox.pool import claim_spec
from service.home import Home
from tests.conftest import apply, approve, register
from tests.egress.test_egress import AGGREGATE, ask, vote
from tests.helpers import read_stored, refused, set_policy
from vault import KeyDestroyed, keys
from vault.files import is_encrypted, read_table

QUERY = "SELECT district, count(*) AS n, sum(fee) AS fees FROM visits GROUP BY 1 ORDER BY 1"


def run(home, people, grant_id, sql=QUERY, name="out", target="real"):
    with home.store.transaction() as s:
        job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id, sql, name,
                             target=target).id
    job = home.run_job(job_id)
    assert job.status == "succeeded", job.error
    return job


def plain(path) -> None:
    """The file cannot be read without its key."""
    assert is_encrypted(path)
    with pytest.raises(OSError):
        pq.read_table(path)


def test_a_sensitive_dataset_is_stored_encrypted_and_a_public_one_in_the_clear(
        home, people, visits_file):
    register(home, people.provider, visits_file, name="visits", level="L3")
    register(home, people.provider, visits_file, name="open_visits", level="L2")
    plain(home.data.local("datasets/visits/v1.parquet"))
    assert not is_encrypted(home.data.local("datasets/open_visits/v1.parquet"))
    assert read_stored(home, "datasets/visits/v1.parquet").equals(
        read_stored(home, "datasets/open_visits/v1.parquet"))
    with home.store.read() as s:
        made = [json.loads(e.payload) for e in s.scalars(select(LedgerEvent).where(
            LedgerEvent.action == "key.created"))]
    assert [(p["scope"], p["master_kid"]) for p in made] == [
        ("dataset", home.master_key.kid)]


def disk_files(home) -> list[Path]:
    return [p for p in home.root.rglob("*") if p.is_file()]


def test_a_real_job_keeps_nothing_decrypted_on_disk_and_gets_plain_results(
        home, people, grant_id):
    job = run(home, people, grant_id)
    output = home.data.local(job.output_path)
    plain(output)
    # Its stage is DuckDB's own file, decrypted in memory only (a tmpfs), never on the disk.
    (stage,) = memory.stage_dir(home.policy, home.data.root, grant_id, "stage-real").glob(
        "stage-*.duckdb")
    assert not any("stage-" in str(p) for p in disk_files(home))
    assert all(is_encrypted(p) for p in disk_files(home) if p.suffix == ".parquet"
               and "workspaces" in p.parts and "simulated" not in p.parts)
    assert stage.stat().st_size
    source = read_stored(home, "datasets/visits/v1.parquet").to_pandas()
    expected = source.groupby("district").agg(n=("fee", "size"), fees=("fee", "sum"))
    got = read_stored(home, output).to_pandas().set_index("district")
    assert got["n"].to_dict() == expected["n"].to_dict()
    # ... and a later job reads the earlier output through the same key.
    again = run(home, people, grant_id, "SELECT sum(n) AS rows FROM out", "total")
    assert read_stored(home, again.output_path).column("rows")[0].as_py() == len(source)
    simulated = run(home, people, grant_id, QUERY, "trial", target="simulated")
    assert not is_encrypted(home.data.local(simulated.output_path))  # simulated data only


def test_without_a_memory_file_system_the_stage_is_encrypted_on_disk_and_nothing_spills(
        home, people, grant_id):
    set_policy(home, memory_dir='""')
    job = run(home, people, grant_id)
    (stage,) = home.data.local(f"workspaces/{grant_id}/stage-real").glob("stage-*")
    assert stage.is_dir()
    for table in stage.iterdir():
        plain(table)
    again = run(home, people, grant_id, "SELECT d.district, sum(o.n) AS n FROM visits d "
                "JOIN out o USING (district) GROUP BY 1", "joined")
    assert read_stored(home, again.output_path).num_rows == job.output_rows
    with home.store.transaction() as s:
        job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id, QUERY,
                             "o2").id
    claimed = claim_spec(home.store.transaction, home.policy, home.data,
                         home.pseudonym_secret, "probe", {job_id})
    try:
        assert claimed[1]["settings"]["max_temp_directory_size"] == "0GB"
        assert not claimed[1]["stage_in_memory"]
    finally:
        shutil.rmtree(claimed[2], ignore_errors=True)


def test_a_grant_that_ends_loses_its_stage_in_memory_on_every_worker(home, people, grant_id):
    run(home, people, grant_id)
    folder = memory.stage_dir(home.policy, home.data.root, grant_id, "stage-real")
    assert any(folder.glob("stage-*.duckdb"))
    with home.store.transaction() as s:
        applications.revoke(s, people.admin, home.policy, grant_id, "违反协议", home.data)
    # Another worker of the machine (no after-commit of the revocation ran there) drops it
    # at its next claim.
    assert claim_spec(home.store.transaction, home.policy, home.data, home.pseudonym_secret,
                      "other", None) is None
    assert not folder.exists()


def test_the_job_process_gets_its_grants_keys_and_nothing_more(home, people, grant_id):
    with home.store.transaction() as s:
        other_dataset = keys.create(s, "dataset", 999)
        other_grant = keys.create(s, "grant", 999)
        job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id, QUERY,
                             "o").id
        grant_key = keys.get(s, "grant", grant_id)
        dataset_key = keys.get(s, "dataset", 1)
    claimed = claim_spec(home.store.transaction, home.policy, home.data,
                         home.pseudonym_secret, "probe", {job_id})
    try:
        spec = json.dumps(claimed[1])
        assert grant_key.hex() in spec and dataset_key.hex() in spec
        for secret in (other_dataset, other_grant, home.master_key.key):
            assert secret.hex() not in spec
    finally:
        shutil.rmtree(claimed[2], ignore_errors=True)


def test_egress_checks_findings_are_encrypted_and_the_release_carries_plain_files(
        home, people, grant_id):
    job = run(home, people, grant_id, AGGREGATE, "product")
    req = ask(home, people, job.id, mitigation="suppress")
    folder = home.data.local(f"egress/{req['id']}")
    plain(folder / "cells.parquet")
    assert not (folder / "results.json").read_bytes().startswith(b"{")
    with home.store.read() as s:
        mitigated = s.get(EgressRequest, req["id"]).mitigated_path
    if mitigated:
        plain(home.data.local(mitigated))
    for reviewer in (people.reviewer, people.reviewer2):
        vote(home, reviewer, req["id"])
    with home.store.transaction() as s:
        (release,) = [r.id for r in requesting.list_releases(s, people.merchant)]
        bundle = requesting.download(s, people.merchant, home.data, release)
    verify_bundle(bundle)
    assert not is_encrypted(bundle / "output.parquet")
    assert pq.read_table(bundle / "output.parquet").num_rows == job.output_rows
    assert json.loads((bundle / "results.json").read_text(encoding="utf-8"))


def test_a_revoked_grants_key_is_destroyed_and_its_backups_are_unreadable(
        home, people, grant_id, tmp_path):
    job = run(home, people, grant_id)
    backup = tmp_path / "backup.parquet"
    shutil.copyfile(home.data.local(job.output_path), backup)  # a copy outside the platform
    with home.store.read() as s:
        key = keys.get(s, "grant", grant_id)
    assert read_table(backup, key).num_rows == job.output_rows
    with home.store.transaction() as s:
        applications.revoke(s, people.admin, home.policy, grant_id, "违反协议", home.data)
    with home.store.read() as s:
        with pytest.raises(KeyDestroyed):
            keys.get(s, "grant", grant_id)
        destroyed = s.scalar(select(LedgerEvent).where(LedgerEvent.action == "key.destroyed"))
        ended = s.scalar(select(LedgerEvent).where(LedgerEvent.action == "grant.revoked"))
        payload = json.loads(destroyed.payload)
        assert payload["scope"] == "grant" and payload["scope_id"] == grant_id
        assert payload["reason"] == "grant revoked"
        assert destroyed.seq > ended.seq and destroyed.time >= ended.time
    assert not home.data.local(f"workspaces/{grant_id}").exists()
    with pytest.raises(Exception, match="encrypted and no key"):
        read_table(backup, None)
    # The dataset's own key lives on: other grants of the dataset are not touched.
    with home.store.read() as s:
        assert keys.get(s, "dataset", 1) is not None


def test_without_its_master_key_the_platform_refuses_clearly_and_changes_nothing(
        home, people, grant_id, tmp_path, visits_file):
    with home.store.transaction() as s:
        job_id = jobs.submit(s, people.merchant, home.policy, home.data, grant_id, QUERY, "x").id
    (home.keys_dir / "master.key").rename(tmp_path / "kept.key")
    bare = Home(home.root, home.database_url, None)
    try:
        with refused(bare, "no master key"):
            register(bare, people.provider, visits_file, name="visits2")
        job = bare.run_job(job_id)
        assert (job.status, job.error_class) == ("failed", "key_unavailable")
        assert "TDS_KEY_FILE" in job.error
    finally:
        bare.store.dispose()


def test_an_encrypted_dataset_version_after_a_plain_one_reads_both(home, people, visits_file,
                                                                   tmp_path):
    register(home, people.provider, visits_file, level="L2")
    register(home, people.provider, visits_file, level="L3")
    assert not is_encrypted(home.data.local("datasets/visits/v1.parquet"))
    plain(home.data.local("datasets/visits/v2.parquet"))
    with home.store.read() as s:
        key = keys.get(s, "dataset", 1)
    for version in ("v1", "v2"):
        assert read_table(home.data.local(f"datasets/visits/{version}.parquet"), key).num_rows
    grant_id = approve(home, people.reviewer, apply(home, people.merchant)).grant.id
    run(home, people, grant_id)


def test_a_file_encrypted_under_another_key_gives_a_clear_error(tmp_path):
    from vault.files import write_table

    write_table(pa.table({"a": [1, 2]}), tmp_path / "t.parquet", b"a" * 32)
    with pytest.raises(Exception, match="cannot be decrypted with its data key"):
        read_table(tmp_path / "t.parquet", b"b" * 32)
    with pytest.raises(Exception, match="no key was given"):
        read_table(tmp_path / "t.parquet", None)


def test_jobs_of_an_ended_grant_are_gone_with_its_key(home, people, grant_id):
    job = run(home, people, grant_id)
    with home.store.transaction() as s:
        applications.revoke(s, people.admin, home.policy, grant_id, "到期前撤销", home.data)
    with home.store.read() as s:
        assert s.get(Job, job.id).output_path  # the record stays; the data is shredded
        with pytest.raises(KeyDestroyed, match="cannot be read any more"):
            keys.get(s, "grant", grant_id)


def test_stages_in_memory_of_a_home_that_is_gone_are_removed(home, tmp_path):
    from sandbox.pool import remove_orphans

    gone = tmp_path / "gone-home"
    gone.mkdir()
    folder = memory.stage_dir(home.policy, gone, 1, "stage-real")
    folder.mkdir(parents=True)
    (folder / "stage-x.duckdb").write_bytes(b"decrypted rows")
    kept = memory.stage_dir(home.policy, home.data.root, 1, "stage-real")
    gone.rmdir()
    assert folder.parent.parent in remove_orphans(home.policy)
    assert not folder.exists() and kept.parent.parent.exists()
