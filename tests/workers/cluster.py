"""A platform of several machines on one: a PostgreSQL store, shared storage (TDS_STORAGE), and
`tds worker` processes each with a TDS_HOME of its own (keys and policy copied, as a deployment
would distribute them)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sandbox import jobs
from service.home import Home
from tests.conftest import apply, approve, register

ROOT = Path(__file__).parents[2]


@dataclass
class Cluster:
    home: Home                 # the API machine's home
    base: Path
    database_url: str
    workers: list[subprocess.Popen] = field(default_factory=list)

    def worker_home(self, index: int) -> Path:
        path = self.base / f"worker{index}"
        if not path.exists():
            path.mkdir(parents=True)
            shutil.copytree(self.home.keys_dir, path / "keys")
            shutil.copy(self.home.policy_path, path / "policy.toml")
        return path

    def env(self, index: int) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("TDS_")}
        return {**clean, "TDS_HOME": str(self.worker_home(index)),
                "TDS_STORAGE": str(self.home.storage), "TDS_DATABASE_URL": self.database_url}

    def start_worker(self, index: int, size: int = 1) -> subprocess.Popen:
        log = (self.base / f"worker{index}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", "worker", "--size",
                                 str(size)], env=self.env(index), cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def log(self, index: int) -> str:
        path = self.base / f"worker{index}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def make_cluster(home: Home, tmp_path: Path, storage: str | None = None) -> Cluster:
    """The cluster around ``home`` (the API machine's), whose data moves to shared storage: a
    shared directory, or the object storage ``storage`` names."""
    home.storage = storage or tmp_path / "shared"
    home.init()
    return Cluster(home, tmp_path, home.database_url)


def grants(cluster: Cluster, people, visits_file: Path, count: int) -> list[int]:
    """``count`` workspaces of the merchant over one registered dataset."""
    home = cluster.home
    register(home, people.provider, visits_file)
    made = []
    for index in range(count):
        app_id = apply(home, people.merchant, scenario=f"门诊分析 {index}")
        made.append(approve(home, people.reviewer, app_id).grant.id)
    return made


def submit(home: Home, merchant, grant_id: int, sql: str, output: str) -> int:
    with home.store.transaction() as s:
        return jobs.submit(s, merchant, home.policy, home.data, grant_id, sql, output).id


def wait_until(predicate, timeout: float, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_api(home: Home, log: Path, workers: int = 0,
              processes: int = 1) -> tuple[subprocess.Popen, int]:
    """`tds serve` on ``home`` in a process of its own; returns it and its port once it answers."""
    import httpx

    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TDS_")}
    env = {**clean, "TDS_HOME": str(home.root)}
    if home.database_url:
        env["TDS_DATABASE_URL"] = home.database_url
    if home.storage:
        env["TDS_STORAGE"] = str(home.storage)
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port),
                             "--workers", str(workers), "--processes", str(processes)],
                            env=env, cwd=ROOT,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)

    def answers() -> bool:
        assert proc.poll() is None, log.read_text(errors="replace")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, 60, "the API to start")
    return proc, port


def restart_postgresql() -> None:
    """Restart the local PostgreSQL server (needs root); skips the test where that is not
    allowed."""
    import pytest

    versions = os.listdir("/etc/postgresql") if os.path.isdir("/etc/postgresql") else []
    if not versions or os.geteuid() != 0:
        pytest.skip("restarting PostgreSQL needs root and a local cluster")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main",
                    "restart"], check=True, timeout=120)
