"""The storage: the same operations on a directory and on S3-compatible object storage (moto's
server stands in for the object store, which runs outside the product)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import Storage, StorageError, open_storage
from storage.errors import StorageUnavailable


@pytest.fixture(params=["directory", "s3"])
def where(request, tmp_path: Path) -> str:
    if request.param == "directory":
        return str(tmp_path / "shared")
    return request.getfixturevalue("s3_uri")


def machine(where: str, tmp_path: Path, name: str) -> Storage:
    """The storage as one machine (a TDS_HOME of its own) sees it."""
    return open_storage(where, tmp_path / name)


def write(storage: Storage, relative: str, text: str) -> None:
    path = storage.local(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    storage.put(relative)


def test_what_one_machine_stores_another_reads_lists_and_removes(where, tmp_path):
    first, second = machine(where, tmp_path, "a"), machine(where, tmp_path, "b")
    assert not second.exists("releases/DP-1/manifest.json")
    write(first, "releases/DP-1/manifest.json", '{"产品": 1}')
    write(first, "releases/DP-1/output.parquet", "rows")
    write(first, "releases/DP-2/manifest.json", "{}")
    assert second.exists("releases/DP-1/manifest.json") and second.exists("releases/DP-1")
    assert second.files("releases/DP-1") == ["releases/DP-1/manifest.json",
                                             "releases/DP-1/output.parquet"]
    assert set(second.folders("releases")) == {"releases/DP-1", "releases/DP-2"}
    folder = second.fetch("releases/DP-1")
    assert (folder / "manifest.json").read_text(encoding="utf-8") == '{"产品": 1}'
    assert second.fetch("releases/DP-1/output.parquet").read_text() == "rows"
    second.remove("releases/DP-1")
    assert not first.exists("releases/DP-1/manifest.json") and not first.exists("releases/DP-1")
    assert not second.local("releases/DP-1").exists()
    assert second.files("releases/DP-1") == [] and set(first.folders("releases")) == {
        "releases/DP-2"}
    second.remove("releases/DP-1")  # removing what is gone is no error
    with pytest.raises(FileNotFoundError):
        second.fetch("releases/DP-1/manifest.json")


def test_object_storage_keeps_nothing_but_a_cache_on_the_machine(s3_uri, tmp_path):
    first, second = machine(s3_uri, tmp_path, "a"), machine(s3_uri, tmp_path, "b")
    assert first.remote and first.root == tmp_path / "a" / "cache" / "storage"
    write(first, "datasets/visits/v1.parquet", "one")
    assert second.fetch("datasets/visits/v1.parquet").read_text() == "one"
    # A copy already here is not brought down again; one that differs from the object is.
    second.local("datasets/visits/v1.parquet").write_text("tampered")
    assert second.fetch("datasets/visits/v1.parquet").read_text() == "one"
    write(first, "egress/7/cells.parquet", "round 1")
    assert second.fetch("egress/7/cells.parquet").read_text() == "round 1"
    write(first, "egress/7/cells.parquet", "round two, longer")
    assert second.fetch("egress/7/cells.parquet").read_text() == "round two, longer"
    shutil.rmtree(tmp_path / "b")  # a new machine: its cache starts empty
    assert second.fetch("datasets/visits/v1.parquet").read_text() == "one"


def test_a_directory_is_used_in_place(tmp_path):
    storage = open_storage(None, tmp_path / "home")
    assert not storage.remote and storage.root == (tmp_path / "home").resolve()
    write(storage, "datasets/x.parquet", "here")
    assert (tmp_path / "home" / "datasets" / "x.parquet").read_text() == "here"
    assert open_storage(f"file://{tmp_path}/elsewhere", tmp_path).root == tmp_path / "elsewhere"


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(relative=st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(["..", ".", "", "/", "a", "数据", "~", "\\", "%2e%2e"]),
             max_size=6).map("/".join)))
def test_no_path_reaches_outside_the_storage(tmp_path, relative):
    storage = open_storage(tmp_path / "shared", tmp_path)
    try:
        path = storage.local(relative)
    except StorageError:
        return
    assert path.resolve().is_relative_to(storage.root.resolve()) and path != storage.root


@pytest.mark.parametrize("where", ["ftp://host/x", "s3://", "s3://bucket?no_such_option=1", "s3://bucket?retries=many",
     "s3://bucket?force_virtual_addressing=maybe"])
def test_an_unusable_storage_setting_is_refused_clearly(where, tmp_path):
    with pytest.raises(StorageError, match="storage"):
        open_storage(where, tmp_path)


def test_object_storage_out_of_reach_is_a_clear_retryable_error(tmp_path, monkeypatch):
    import socket

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    storage = open_storage(f"s3://gone/tds?endpoint_override=127.0.0.1:{port}&scheme=http"
                           "&region=us-east-1&retries=1&connect_timeout=1", tmp_path)
    with pytest.raises(StorageUnavailable, match=r"object storage .*did not answer") as info:
        storage.fetch("datasets/visits/v1.parquet")
    assert info.value.kind == "unavailable"
    write_local = storage.local("datasets/x.parquet")
    write_local.parent.mkdir(parents=True)
    write_local.write_text("x")
    with pytest.raises(StorageUnavailable):
        storage.put("datasets/x.parquet")
    with pytest.raises(StorageUnavailable):
        storage.remove("datasets/x.parquet")
    assert not write_local.exists(), "this machine's copy goes even so"


def test_a_machine_drops_cached_copies_of_what_another_deleted(s3_uri, tmp_path):
    first, second = machine(s3_uri, tmp_path, "a"), machine(s3_uri, tmp_path, "b")
    write(first, "workspaces/4/outputs/product.parquet", "retained by the merchant")
    write(first, "workspaces/5/outputs/other.parquet", "another grant's")
    write(first, "releases/DP-1/manifest.json", "{}")
    for relative in ("workspaces/4/outputs/product.parquet", "workspaces/5/outputs/other.parquet",
                     "releases/DP-1/manifest.json"):
        second.fetch(relative)
    stage = second.local("workspaces/4/stage-real/stage-abc.duckdb")  # made on this machine
    stage.parent.mkdir(parents=True)
    stage.write_text("granted columns")
    upload = second.local("scratch/upload.csv")  # this machine's own working files
    upload.parent.mkdir(parents=True)
    upload.write_text("a,b")
    first.remove("workspaces/4")  # the grant ended, on the first machine
    assert second.prune() == [], "files that may still be on their way up are left alone"
    assert sorted(second.prune(settle_seconds=0)) == [
        "workspaces/4/outputs/product.parquet", "workspaces/4/stage-real/stage-abc.duckdb"]
    assert not stage.exists() and upload.exists()
    assert second.local("workspaces/5/outputs/other.parquet").exists()
    assert second.local("releases/DP-1/manifest.json").exists()
    assert open_storage(tmp_path / "dir", tmp_path).prune(settle_seconds=0) == []


def test_init_on_object_storage_checks_the_bucket_first(s3_uri, tmp_path):
    from service.home import Home

    missing = s3_uri.replace("s3://tds-", "s3://no-such-", 1)
    with pytest.raises(StorageError, match=r"bucket of s3://no-such-.* does not exist"):
        Home(tmp_path / "a", storage=missing).init()
    assert not (tmp_path / "a").exists(), "nothing is made before the check"
    home = Home(tmp_path / "b", storage=s3_uri)
    assert home.init() and home.data.remote
    home.store.dispose()
