"""Load on the HTTP API: concurrent merchants over loopback, and job throughput per worker count.

    .venv/bin/python bench/load.py [--clients 50] [--seconds 60] [--ramp-up 5]
                                   [--processes CORES] [--pool 1,2,4] [--workers 1,2,4]
                                   [--database-url postgresql+psycopg://...]

Phase 1 starts `tds serve --processes CORES --workers N` in its own process on a fresh home
(SQLite unless --database-url) with one registered dataset, its simulated preview, and one
grant per organization, once for each N of --pool; then --clients merchants loop: browse the
catalog, read the dataset and its preview, submit a simulated job and poll it every 0.25 s
until it ends. The merchants start one after another over --ramp-up seconds (as a load tool's
spawn rate: 50 people do not press a key in the same millisecond), then all of them run for
--seconds.

It prints throughput and p50/p95/p99 latency per endpoint over those --seconds, where the
targets are judged (issues 9 and 25: catalog and preview p95 <= 100 ms, job submission p95 <= 200 ms,
zero errors), and the same for the ramp-up. The clients are asyncio + aiohttp, each with its
own token: httpx costs about 5 ms of client CPU a request, which on 2 cores starved the
server, and the bench measured its own client as the server's latency.

With --database-url, the bench works in a database of its own that it creates on that server
(the URL's database is only where it connects to create it) and drops at the end.

Phase 2 queues 40 simulated jobs over the organizations' workspaces and times how long N
workers take to finish them, for each N of --workers: `tds serve --workers N` (the local pool)
on SQLite, N `tds worker` processes on PostgreSQL, after an untimed round of one job in each
workspace (a workspace's first job sets it up). There is no peer to compare with.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

# Run as a script, this file's folder comes first on the path, and its sibling synth.py would
# hide the product's `synth` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import aiohttp  # noqa: E402
import httpx  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.grants import granted  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

TDS = [sys.executable, "-m", "service.cli"]
SQL = "SELECT district, count(*) AS n, avg(fee) AS fee FROM visits GROUP BY 1"


def tds(home: Path, *args: str, env: dict | None = None) -> dict:
    done = subprocess.run([*TDS, *args, "--json"], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "TDS_HOME": str(home), **(env or {})}, check=False)
    if done.returncode != 0:
        raise SystemExit(f"tds {' '.join(args)} failed: {done.stderr}")
    return json.loads(done.stdout)


def prepare(home: Path, clients: int, database_url: str | None) -> dict[str, list[str]]:
    """A home with the dataset, its preview, and ``clients`` merchants in orgs of five, each
    org with a grant. Returns tokens and grant ids per merchant."""
    from accounts.users import add_user
    from catalog import datasets, previews
    from policies import OPERATOR
    from service import demo_data
    from service.home import Home

    h = Home(home, database_url)
    h.init()
    with h.store.transaction() as s:
        provider, _ = add_user(s, OPERATOR, "provider", "provider")
        reviewer, _ = add_user(s, OPERATOR, "reviewer", "reviewer", "审核机构")
        provider, reviewer = provider.actor(), reviewer.actor()
    source = demo_data.write(demo_data.hospital_visits(3000, seed=5), home / "visits.parquet")
    with h.store.transaction() as s:
        version = datasets.register(s, provider, h.policy, h.data, source, datasets.Registration(
            "visits", "门诊记录", "health", "L2", "conditional"))
        version_id = version.id
    previews.build(h.store.transaction, h.data, h.policy, version_id)
    tokens, grants = [], []
    grant_of: dict[str, int] = {}
    for i in range(clients):
        org = f"商户{i // 5:02d}"
        with h.store.transaction() as s:
            user, token = add_user(s, OPERATOR, f"m{i:03d}", "merchant", org)
            merchant = user.actor()
        if org not in grant_of:
            grant_of[org] = granted(h, merchant, provider, reviewer,
                                    [{"dataset": "visits",
                                      "columns": ["district", "fee", "age"]}], "负载测试")
        tokens.append(token)
        grants.append(grant_of[org])
    h.store.dispose()
    return {"tokens": tokens, "grants": grants}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(home: Path, workers: int, database_url: str | None,
          processes: int = 1) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "TDS_HOME": str(home)}
    if database_url:
        env["TDS_DATABASE_URL"] = database_url
    server = subprocess.Popen([*TDS, "serve", "--port", str(port), "--workers", str(workers),
                               "--processes", str(processes)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


async def merchant(client: aiohttp.ClientSession, token: str, grant: int, n: int,
                   window: tuple[float, float, float], timings: dict[str, list[float]],
                   ramp: dict[str, list[float]], errors: dict[str, int], run: int = 0) -> None:
    """One merchant: starts at ``window[0]``, steady state from ``window[1]`` (samples go to
    ``timings``; earlier ones to ``ramp``), stops at ``window[2]``. ``run`` keeps the output
    names of successive runs on one home apart."""
    start, steady, until = window
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    headers = {"Authorization": f"Bearer {token}"}

    async def call(name: str, method: str, path: str, **kwargs) -> dict | list | None:
        started, elapsed = time.perf_counter(), time.monotonic()
        try:
            async with client.request(method, path, headers=headers, **kwargs) as response:
                body = await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            errors[f"{name}: {type(exc).__name__}"] += 1
            return None
        (timings if elapsed >= steady else ramp)[name].append(
            time.perf_counter() - started)
        if response.status >= 400:
            try:
                detail = str(json.loads(body).get("code") or json.loads(body).get("detail"))
            except ValueError:
                detail = body[:60].decode(errors="replace")
            errors[f"{name}: HTTP {response.status} {detail[:60]}"] += 1
            return None
        return json.loads(body)

    round_ = 0
    while time.monotonic() < until:
        round_ += 1
        await call("GET /datasets", "GET", "/api/v1/datasets")
        await call("GET /datasets/{name}", "GET", "/api/v1/datasets/visits")
        await call("GET /datasets/{name}/preview", "GET", "/api/v1/datasets/visits/preview",
                   params={"rows": 20})
        job = await call("POST /jobs", "POST", "/api/v1/jobs", json={
            "grant_id": grant, "sql": SQL, "output_name": f"r{run}_o{n}_{round_}",
            "target": "simulated"})
        while job and job.get("status") in ("queued", "running") and time.monotonic() < until:
            await asyncio.sleep(0.25)
            job = await call("GET /jobs/{id}", "GET", f"/api/v1/jobs/{job['id']}")
        if job and job.get("status") in ("succeeded", "failed", "cancelled", "timed_out"):
            (timings if time.monotonic() >= steady else ramp)["job finished"].append(0.0)
            if job["status"] != "succeeded":
                errors[f"job {job['status']}"] += 1


async def load(url: str, people: dict, seconds: float, ramp_up: float, run: int = 0
               ) -> tuple[dict, dict, dict, float]:
    timings: dict[str, list[float]] = defaultdict(list)
    ramp: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    clients = len(people["tokens"])
    connector = aiohttp.TCPConnector(limit=clients + 10)
    async with aiohttp.ClientSession(url, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as client:
        now = time.monotonic()
        steady = now + ramp_up
        await asyncio.gather(*(
            merchant(client, token, grant, n, (now + ramp_up * n / clients, steady,
                                               steady + seconds), timings, ramp, errors, run)
            for n, (token, grant) in enumerate(zip(people["tokens"], people["grants"],
                                                   strict=True))))
        return timings, ramp, errors, seconds


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def table(timings: dict, elapsed: float) -> None:
    print(f"{'endpoint':32s} {'requests':>9s} {'per s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} "
          f"{'p99 ms':>8s}")
    for name, values in sorted(timings.items()):
        if name == "job finished":
            continue
        print(f"{name:32s} {len(values):9d} {len(values) / elapsed:8.1f} "
              f"{1000 * statistics.median(values):8.1f} {1000 * percentile(values, 0.95):8.1f} "
              f"{1000 * percentile(values, 0.99):8.1f}")


def report(timings: dict, ramp: dict, errors: dict, elapsed: float, ramp_up: float) -> None:
    print(f"\nsteady state: all merchants running, {elapsed:.0f} s")
    table(timings, elapsed)
    print(f"jobs finished: {len(timings.get('job finished', []))} "
          f"({len(timings.get('job finished', [])) / elapsed:.2f}/s)")
    print(f"errors (whole run): {sum(errors.values())}" + (f" {dict(errors)}" if errors else ""))
    targets = {"GET /datasets": 0.1, "GET /datasets/{name}/preview": 0.1, "POST /jobs": 0.2}
    for name, target in targets.items():
        if timings.get(name):
            p95 = percentile(timings[name], 0.95)
            print(f"target {name} p95 <= {target * 1000:.0f} ms: {p95 * 1000:.1f} ms "
                  f"{'met' if p95 <= target else 'NOT met'}")
    if ramp and ramp_up > 0:
        print(f"\nramp-up: merchants starting one after another over {ramp_up:.0f} s")
        table(ramp, ramp_up)


def waiting_jobs(store) -> int:
    from sqlalchemy import func, select

    from sandbox.models import Job

    with store.read() as session:
        return session.scalar(select(func.count()).select_from(Job).where(
            Job.status.in_(("queued", "running"))))


@contextlib.contextmanager
def home_store(home: Path, database_url: str | None) -> Iterator:
    from service.home import Home

    store = Home(home, database_url).store
    try:
        yield store
    finally:
        store.dispose()


def drained(home: Path, database_url: str | None, limit: float = 300) -> None:
    """Wait (up to ``limit`` seconds) until no job is queued or running."""
    deadline = time.monotonic() + limit
    with home_store(home, database_url) as store:
        while waiting_jobs(store) and time.monotonic() < deadline:
            time.sleep(0.5)


def first_merchants(people: dict) -> list[int]:
    """One merchant of each organization (a workspace each), by index."""
    return list(range(0, len(people["tokens"]), 5))


def throughput(home: Path, people: dict, workers: int, database_url: str | None,
               jobs: int = 40, tag: str = "t") -> float:
    """Seconds for ``workers`` job processes to finish ``jobs`` queued simulated jobs, spread
    over the organizations' workspaces (jobs of one workspace run one at a time on
    PostgreSQL). SQLite: the local pool of `tds serve --workers N`; PostgreSQL: N separate
    `tds worker --size 1` processes on the procrastinate queue."""
    server, url = serve(home, 0, database_url)  # queue without running
    firsts = first_merchants(people)
    try:
        for i in range(jobs):
            k = firsts[i % len(firsts)]
            httpx.post(url + "/api/v1/jobs", timeout=30,
                       headers={"Authorization": f"Bearer {people['tokens'][k]}"},
                       json={"grant_id": people["grants"][k], "sql": SQL, "target": "simulated",
                             "output_name": f"{tag}{workers}_{i}"}).raise_for_status()
    finally:
        server.terminate()
        server.wait(30)
    env = {**os.environ, "TDS_HOME": str(home)}
    if database_url:
        env["TDS_DATABASE_URL"] = database_url
    started = time.monotonic()
    if database_url:
        running = [subprocess.Popen([*TDS, "worker", "--size", "1"], cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(workers)]
    else:
        running = [serve(home, workers, database_url)[0]]
    try:
        with home_store(home, database_url) as store:
            while waiting_jobs(store):
                time.sleep(0.2)
        return time.monotonic() - started
    finally:
        for process in running:
            process.terminate()
        for process in running:
            process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--ramp-up", type=float, default=5.0,
                        help="seconds over which the merchants start")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--pool", default="1,2,4",
                        help="job processes during phase 1: a run for each of these counts")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="HTTP processes of tds serve during phase 1 (default: one a core)")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, scratch_database(args.database_url) as database_url:
        args.database_url = database_url
        home = Path(tmp) / "home"
        print(f"preparing a home with {args.clients} merchants ...", flush=True)
        people = prepare(home, args.clients, args.database_url)
        for run, pool in enumerate(int(w) for w in args.pool.split(",") if w.strip()):
            server, url = serve(home, pool, args.database_url, args.processes)
            try:
                # Jobs the previous run left queued run first, before the clock starts.
                drained(home, args.database_url)
                print(f"\nphase 1: {args.clients} merchants for {args.seconds:.0f} s against "
                      f"{url} ({args.processes} HTTP processes, {pool} job processes) ...",
                      flush=True)
                timings, ramp, errors, elapsed = asyncio.run(load(url, people, args.seconds,
                                                                  args.ramp_up, run))
            finally:
                server.terminate()
                server.wait(30)
            report(timings, ramp, errors, elapsed, args.ramp_up)
        print("\nphase 2: 40 queued simulated jobs")
        counts = [int(w) for w in args.workers.split(",") if w.strip()]
        # The first job of a workspace pays for setting it up; without this round the first
        # count measured would pay it for every workspace (1 job process: 38 s against 18 s).
        organizations = len(first_merchants(people))
        seconds = throughput(home, people, counts[0], args.database_url, organizations, "w")
        print(f"  warm-up, the first job of each of the {organizations} workspaces: "
              f"{seconds:.1f} s", flush=True)
        for workers in counts:
            seconds = throughput(home, people, workers, args.database_url)
            kind = "tds worker processes" if args.database_url else "job processes of the pool"
            print(f"  {workers} {kind}: {seconds:.1f} s, {40 / seconds:.2f} jobs/s",
                  flush=True)


if __name__ == "__main__":
    main()
