"""tds init, demo, serve and worker: make a home, show the flow, serve it, run jobs."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import click

from service.cli.base import emit, home, json_option, ready_home


@click.command()
@json_option
def init(as_json: bool) -> None:
    """Create the home: store, platform signing key, policy file."""
    h = home()
    created = h.init()
    data = {"home": str(h.root), "created": created, "database": h.store.dialect,
            "key_id": h.signer.key_id, "policy": str(h.policy_path)}
    emit(data, as_json, lambda d: (
        f"{'Initialized' if d['created'] else 'Already initialized:'} {d['home']} "
        f"({d['database']} store, key {d['key_id']})"))


@click.command()
@json_option
@click.option("--seed", type=int, default=20251125, show_default=True, help="data generator seed")
def demo(as_json: bool, seed: int) -> None:
    """Run the whole flow on generated Chinese public data, ending with a verified release."""
    from service.demo import run_demo

    result = run_demo(home(), seed=seed, progress=None if as_json else click.echo)
    emit(result, as_json, demo_text)


def command() -> str:
    """How to call this tds again: ``tds`` when the shell finds this one, else its path (a
    virtualenv that is not activated: ``.venv/bin/tds``)."""
    me = Path(sys.argv[0]).resolve()
    found = shutil.which("tds")
    if found and Path(found).resolve() == me:
        return "tds"
    try:
        return str(me.relative_to(Path.cwd()))
    except ValueError:
        return str(me)


def demo_text(d: dict[str, Any]) -> str:
    lines = [
        "",
        f"Demo finished in {d['seconds']} s. The release verifies: {d['release_verified']}.",
        f"  datasets:    {', '.join(x['name'] + ' (' + x['registration_no'] + ')' for x in d['datasets'])}",
        f"  application: {d['application_id']} -> grant {d['grant_id']}",
        f"  job:         {d['job_id']} ({d['job_rows']} rows, a band; kept inside the platform)",
        f"  egress:      request {d['egress_id']}, product {d['product_no']}",
        f"  release:     {d['release_path']}",
        f"  at rest:     {d['data_keys']} data keys, wrapped by master key {d['master_kid']}",
        f"  ledger:      {d['ledger_events']} events, valid: {d['ledger_valid']}",
        "",
        f"Browse it:  {command()} serve   then open http://127.0.0.1:8000/ "
        "(web console, 中文/English)",
        "            or http://127.0.0.1:8000/docs (HTTP API). Sign in to the console as:",
    ]
    for role, account in d["console"].items():
        lines.append(f"  {role:9s} user {account['user']:20s} password {account['password']}")
    lines.append(f"Or act as a role with {command()} and its API token, e.g.:")
    for role, token in d["tokens"].items():
        lines.append(f"  {role:9s} export TDS_TOKEN={token}")
    return "\n".join(lines)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--workers", type=int, help="job processes of the built-in worker pool "
              "(default: the policy's pool_size on SQLite; none on PostgreSQL, where "
              "`tds worker` runs jobs)")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64),
              help="HTTP processes sharing the port (one per core); the worker pool and the "
                   "sweeps then run once, in the supervising process")
def serve(host: str, port: int, workers: int | None, processes: int) -> None:
    """Serve the HTTP API (/api/v1, OpenAPI at /docs) and the console. On SQLite it also runs
    jobs in a local worker pool and sweeps applications; on PostgreSQL `tds worker` does both."""
    from service.api.server import serve as run

    h = ready_home()
    h.data.check()  # a storage that does not answer stops the start, not the first request
    run(h, host, port, workers, processes)


@click.command()
@click.option("--size", type=int, help="jobs at once (default: the policy's pool_size)")
def worker(size: int | None) -> None:
    """Run jobs until stopped (Ctrl-C or SIGTERM); running jobs are then queued again. On
    PostgreSQL it takes deliveries from the shared queue and runs the periodic tasks, on as
    many machines as wanted; on SQLite it claims jobs from the local store."""
    h = ready_home()
    h.data.check()
    size = size if size is not None else h.policy.sandbox.pool_size
    if size < 1:
        raise click.UsageError("--size must be at least 1")
    if h.store.dialect == "postgresql":
        from sandbox.jobs import worker_name
        from workers.engine import run

        rt = h.runtime()
        rt.worker = worker_name()
        click.echo(f"worker {rt.worker}: {size} jobs at once from the PostgreSQL queue; "
                   "Ctrl-C to stop", err=True)
        run(rt, size)
        return
    _local_worker(h, size)


def _local_worker(h, size: int) -> None:
    import signal
    import threading

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    pool = h.pool(size=size).start()
    click.echo(f"worker {pool.worker}: {pool.size} job processes; Ctrl-C to stop", err=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        pool.stop()


COMMANDS = [init, demo, serve, worker]
