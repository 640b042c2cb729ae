"""`tds serve --processes N`: several HTTP processes on one port, the worker pool once."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
from sqlalchemy import select

from sandbox.models import Job
from tests.workers.cluster import start_api, wait_until


def children(pid: int) -> dict[int, str]:
    """The live child processes of ``pid`` and their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat[1]) == pid and stat[0] != "Z":
            found[int(entry.name)] = command
    return found


def http_processes(pid: int) -> set[int]:
    return {p for p, command in children(pid).items() if "spawn_main" in command}


def test_several_http_processes_share_the_port_and_one_pool_runs_the_jobs(home, people, grant_id,
                                                                          tmp_path):
    server, port = start_api(home, tmp_path / "api.log", workers=1, processes=2)
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=30,
                       headers={"Authorization": f"Bearer {people.tokens['merchant']}"})
    try:
        wait_until(lambda: len(http_processes(server.pid)) == 2, 30, "two HTTP processes")
        first = http_processes(server.pid)
        # Jobs submitted to either process run once, in the supervisor's pool.
        ids = [api.post("/jobs", json={"grant_id": grant_id, "sql": "SELECT district FROM visits",
                                       "output_name": f"o{n}", "target": "simulated"}).json()["id"]
               for n in range(4)]
        wait_until(lambda: all(api.get(f"/jobs/{i}").json()["status"] == "succeeded" for i in ids),
                   60, "the jobs to succeed")
        # An HTTP process that dies is replaced; the API answers meanwhile and after.
        os.kill(min(first), signal.SIGKILL)
        wait_until(lambda: len(http_processes(server.pid)) == 2
                   and http_processes(server.pid) != first, 30, "a replacement process")
        # On a new connection: the client's kept-alive one may have been the killed process's.
        assert httpx.get(f"{api.base_url}datasets", headers=api.headers,
                         timeout=30).status_code == 200
    finally:
        api.close()
        server.send_signal(signal.SIGTERM)
        code = server.wait(30)
    assert code == 0
    assert not children(server.pid), "nothing is left running after SIGTERM"
    with home.store.read() as s:
        assert set(s.scalars(select(Job.status))) == {"succeeded"}
