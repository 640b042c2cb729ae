"""The `tds` command line. Every command that reports has --json."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from policies import OPERATOR, Actor, DomainError

if TYPE_CHECKING:
    from service.home import Home

EXIT_ERROR = 2


def _print(data: Any, as_json: bool, text: Callable[[Any], str] | None = None) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(text(data) if text else _plain(data))


def _plain(data: Any, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(data, dict):
        lines = []
        for key, value in data.items():
            if isinstance(value, dict | list) and value:
                lines.append(f"{pad}{key}:")
                lines.append(_plain(value, indent + 1))
            else:
                lines.append(f"{pad}{key}: {value}")
        return "\n".join(lines)
    if isinstance(data, list):
        return "\n".join(
            (f"{pad}-\n" + _plain(item, indent + 1)) if isinstance(item, dict | list)
            else f"{pad}- {item}" for item in data
        )
    return f"{pad}{data}"


class TdsGroup(click.Group):
    """Turns domain errors into one clear line (or a JSON error) instead of a traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["tds.json"] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            if ctx.meta.get("tds.json"):
                click.echo(json.dumps({"error": exc.message, "kind": exc.kind},
                                      ensure_ascii=False))
            else:
                click.echo(f"error: {exc.message}", err=True)
            ctx.exit(EXIT_ERROR)


def home():
    from service.home import Home

    return Home.from_env()


def ready_home():
    return home().require_initialized()


def acting(token: str | None) -> Actor:
    from service.users import authenticate

    h = ready_home()
    with h.store.read() as session:
        return authenticate(session, token or os.environ.get("TDS_TOKEN"),
                            h.policy.api["token_days"])


def acting_or_operator(token: str | None) -> Actor:
    """The token's user when a token is given, else the home's operator (an administrator)."""
    return acting(token) if (token or os.environ.get("TDS_TOKEN")) else OPERATOR


token_option = click.option("--token", help="API token (default: $TDS_TOKEN)")
json_option = click.option("--json", "as_json", is_flag=True, help="print JSON")


@click.group(cls=TdsGroup)
@click.version_option(package_name="trusted-data-sandbox")
def main() -> None:
    """Trusted Data Sandbox: develop products from public data that never leaves."""


@main.command()
@json_option
def init(as_json: bool) -> None:
    """Create the home: store, platform signing key, policy file."""
    h = home()
    created = h.init()
    data = {"home": str(h.root), "created": created, "database": h.store.dialect,
            "key_id": h.signer.key_id, "policy": str(h.policy_path)}
    _print(data, as_json, lambda d: (
        f"{'Initialized' if d['created'] else 'Already initialized:'} {d['home']} "
        f"({d['database']} store, key {d['key_id']})"))


@main.command()
@json_option
@click.option("--seed", type=int, default=20251125, show_default=True, help="data generator seed")
def demo(as_json: bool, seed: int) -> None:
    """Run the whole flow on generated Chinese public data, ending with a verified release."""
    from service.demo import run_demo

    h = home()
    result = run_demo(h, seed=seed, progress=None if as_json else click.echo)
    _print(result, as_json, _demo_text)


def _demo_text(d: dict[str, Any]) -> str:
    lines = [
        "",
        f"Demo finished in {d['seconds']} s. The release verifies: {d['release_verified']}.",
        f"  datasets:    {', '.join(x['name'] + ' (' + x['registration_no'] + ')' for x in d['datasets'])}",
        f"  application: {d['application_id']} -> grant {d['grant_id']}",
        f"  job:         {d['job_id']} ({d['job_rows']} rows, a band; kept inside the platform)",
        f"  egress:      request {d['egress_id']}, product {d['product_no']}",
        f"  release:     {d['release_path']}",
        f"  ledger:      {d['ledger_events']} events, valid: {d['ledger_valid']}",
        "",
        "Browse it:  tds serve   then open http://127.0.0.1:8000/ (web console, 中文/English)",
        "            or http://127.0.0.1:8000/docs (HTTP API). Sign in to the console as:",
    ]
    for role, account in d["console"].items():
        lines.append(f"  {role:9s} user {account['user']:20s} password {account['password']}")
    lines.append("Or act as a role on the command line with its API token, e.g.:")
    for role, token in d["tokens"].items():
        lines.append(f"  {role:9s} export TDS_TOKEN={token}")
    return "\n".join(lines)


@main.command()
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


# -- users ---------------------------------------------------------------------------------

@main.group()
def user() -> None:
    """Users and their roles (operator of the home only)."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["provider", "merchant", "reviewer", "admin"]))
@click.option("--org", help="organization (required for merchants and reviewers)")
@json_option
def user_add(name: str, role: str, org: str | None, as_json: bool) -> None:
    """Add a user and print its API token (shown only once)."""
    from service.users import add_user

    h = ready_home()
    with h.store.transaction() as session:
        created, token = add_user(session, OPERATOR, name, role, org)
        data = created.as_dict() | {"token": token}
    _print(data, as_json, lambda d: f"user {d['name']} ({d['role']}) created; token: {d['token']}")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input "
              "(first line) instead of prompting")
def user_passwd(name: str, password_stdin: bool) -> None:
    """Set a user's web console password (Argon2 hash); ends the user's console sessions."""
    from service.passwords import set_password
    from service.web.sessions import end_all

    h = ready_home()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with h.store.transaction() as session:
        user = set_password(session, OPERATOR, h.policy, name, password)
        ended = end_all(session, user.id)
    click.echo(f"password of {user.name} set" + (f"; {ended} console session(s) ended"
                                                   if ended else ""))


@user.command("token")
@click.argument("name")
@json_option
def user_token(name: str, as_json: bool) -> None:
    """Issue a new API token for a user (expired or leaked); the old one stops working."""
    from service.users import rotate_token, token_view

    h = ready_home()
    with h.store.transaction() as session:
        user, token = rotate_token(session, OPERATOR, name)
        data = token_view(user, token, h.policy.api["token_days"])
    _print(data, as_json, lambda d: f"new token of {d['name']} (expires {d['token_expires_at']}): "
                                    f"{d['token']}")


@user.command("list")
@json_option
def user_list(as_json: bool) -> None:
    from service.users import list_users

    h = ready_home()
    with h.store.read() as session:
        data = [u.as_dict() for u in list_users(session, OPERATOR)]
    _print(data, as_json)


# -- catalog -------------------------------------------------------------------------------

@main.group()
def dataset() -> None:
    """The catalog of data resources."""


@dataset.command("register")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--name", required=True)
@click.option("--title", required=True)
@click.option("--domain", required=True)
@click.option("--level", required=True, type=click.Choice(["L1", "L2", "L3", "L4"]))
@click.option("--attribute", required=True, type=click.Choice(["open", "conditional", "restricted"]))
@click.option("--description", default="")
@click.option("--no-preview", is_flag=True, help="do not build the simulated preview now")
@token_option
@json_option
def dataset_register(file: Path, name: str, title: str, domain: str, level: str, attribute: str,
                     description: str, no_preview: bool, token: str | None,
                     as_json: bool) -> None:
    """Register a Parquet or CSV file (UTF-8 or GB18030) as a dataset version, then build its
    simulated preview."""
    from catalog import previews
    from catalog.datasets import Registration, describe, register

    actor = acting(token)
    h = ready_home()
    with h.store.transaction() as session:
        version = register(session, actor, h.policy, h.data, file,
                           Registration(name, title, domain, level, attribute, description))
        version_id = version.id
        data = describe(version.dataset, detail=True)
    if not no_preview:
        data["preview"] = previews.build(h.store.transaction, h.data, h.policy, version_id,
                                         progress=None if as_json else _say_progress)
    _print(data, as_json, lambda d: (
        f"registered {d['name']} v{d['version']} as {d['registration_no']}: {d['rows']} rows, "
        f"{d['columns']} columns; level {d['level']} (suggested {d['suggested_level']})\n"
        + _classification_text(d) + "\nconfirm or override with: tds dataset classify NAME"))


@dataset.command("classify")
@click.argument("name")
@click.option("--entity", "entities", multiple=True, metavar="COL=ENTITY",
              help="override a column's entity (ENTITY 'none': no identifier); repeatable")
@click.option("--qi", help="the quasi-identifier columns, comma-separated (replaces the list)")
@click.option("--confidential", help="columns holding trade secrets, comma-separated")
@click.option("--level", type=click.Choice(["L1", "L2", "L3", "L4"]), help="confirm or change")
@click.option("--person-key", metavar="COL|none",
              help="the column naming each contributor (egress counts a cell's distinct values "
                   "of it); none: each row is one contributor")
@token_option
@json_option
def dataset_classify(name: str, entities: tuple[str, ...], qi: str | None,
                     confidential: str | None, level: str | None, person_key: str | None,
                     token: str | None, as_json: bool) -> None:
    """Confirm the scan's column classification of the latest version, with overrides."""
    from catalog.datasets import classify, describe

    chosen: dict[str, str | None] = {}
    for spec in entities:
        column, sep, entity = spec.partition("=")
        if not sep or not column or not entity:
            raise click.BadParameter(f"{spec!r}: use COLUMN=ENTITY or COLUMN=none",
                                     param_hint="--entity")
        chosen[column] = None if entity.lower() == "none" else entity.upper()

    def split(value: str | None) -> list[str] | None:
        return None if value is None else [c.strip() for c in value.split(",") if c.strip()]

    actor = acting(token)
    h = ready_home()
    with h.store.transaction() as session:
        version = classify(session, actor, name, chosen, split(qi), split(confidential), level,
                           None if person_key is None else
                           "" if person_key.lower() == "none" else person_key)
        data = describe(version.dataset, detail=True)
    _print(data, as_json, _classification_text)


def _classification_text(d: dict[str, Any]) -> str:
    lines = [f"{d['name']} v{d['version']}: level {d['level']} (suggested {d['suggested_level']}), "
             f"classification {d['classification']}"]
    for t in d["column_tags"]:
        flags = [f for f, key in (("QI", "quasi_identifier"), ("confidential", "confidential"),
                                  ("person key", "person_key")) if t.get(key)]
        note = "" if t["entity"] == t.get("suggested_entity") else \
            f" (scan suggested {t.get('suggested_entity') or '-'})"
        lines.append(f"  {t['name']:24s} {t['entity'] or '-':18s}{note} {' '.join(flags)}")
    return "\n".join(lines)


@dataset.command("list")
@click.option("--domain")
@click.option("--level")
@click.option("--attribute")
@token_option
@json_option
def dataset_list(domain: str | None, level: str | None, attribute: str | None,
                 token: str | None, as_json: bool) -> None:
    from catalog.datasets import describe, list_datasets

    acting(token)
    with ready_home().store.read() as session:
        data = [describe(d) for d in list_datasets(session, domain, level, attribute)]
    _print(data, as_json, lambda rows: "\n".join(
        f"{d['registration_no']}  {d['name']:24s} {d['level']} {d['attribute']:11s} "
        f"{d['rows']:>9} rows  {d['title']}" for d in rows) or "(no datasets)")


def _say_progress(message: str) -> None:
    click.echo(f"  preview: {message}", err=True)


@dataset.command("preview")
@click.argument("name")
@click.option("--rows", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--build", is_flag=True, help="(re)build the preview now (provider or admin)")
@token_option
@json_option
def dataset_preview(name: str, rows: int, build: bool, token: str | None, as_json: bool) -> None:
    """The simulated preview of a dataset's latest version: rows that look like the data and
    hold none of its values, with the quality and leak report."""
    from catalog import previews
    from catalog.datasets import get
    from policies import Role, require

    actor = acting(token)
    h = ready_home()
    with h.store.read() as session:
        version_id = get(session, name).latest.id
    if build:
        require(actor, Role.PROVIDER, Role.ADMIN)
        previews.build(h.store.transaction, h.data, h.policy, version_id,
                       progress=None if as_json else _say_progress)
    with h.store.read() as session:
        data = previews.show(h.data, get(session, name).latest, rows)
    _print(data, as_json, _preview_text)


def _preview_text(d: dict[str, Any]) -> str:
    lines = [f"{d['dataset']} v{d['version']}: {d['label']}"]
    if d["status"] == "failed":
        lines.append(f"  the last build failed: {d['error']}")
    if d["report"]:
        r = d["report"]
        lines.append(f"  quality {r['quality']} (shapes {r['column_shapes']}, pair trends "
                     f"{r['column_pair_trends']}); real rows reproduced {r['exact_row_matches']};"
                     f" real identifier values reused {r['reused_identifier_values']}")
    if d["columns"]:
        lines.append("  " + " | ".join(d["columns"]))
        lines += ["  " + " | ".join("" if v is None else str(v) for v in row) for row in d["rows"]]
    return "\n".join(lines)


@dataset.command("show")
@click.argument("name")
@token_option
@json_option
def dataset_show(name: str, token: str | None, as_json: bool) -> None:
    from catalog.datasets import describe, get

    acting(token)
    with ready_home().store.read() as session:
        data = describe(get(session, name), detail=True)
    _print(data, as_json, lambda d: f"{d['registration_no']}  {d['title']}\n"
                                    + _classification_text(d))


# -- applications and grants ---------------------------------------------------------------

def _columns_of(specs: tuple[str, ...], hint: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, columns = spec.partition(":")
        if not sep or not columns:
            raise click.BadParameter(f"{spec!r}: use DATASET:col1,col2", param_hint=hint)
        found.setdefault(name, []).extend(c for c in columns.split(",") if c)
    return found


def _items(specs: tuple[str, ...], raw: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    raw_columns = _columns_of(raw, "--raw")
    unknown = set(raw_columns) - set(_columns_of(specs, "--dataset"))
    if unknown:
        raise click.BadParameter(f"{sorted(unknown)[0]!r} is not among --dataset",
                                 param_hint="--raw")
    return [{"dataset": name, "columns": columns, "raw_columns": raw_columns.get(name, [])}
            for name, columns in _columns_of(specs, "--dataset").items()]


@main.command()
@click.option("--scenario", required=True, help="scenario name (one scenario per application)")
@click.option("--description", required=True, help="what the scenario is")
@click.option("--purpose", required=True)
@click.option("--products", required=True, help="products the scenario will produce")
@click.option("--months", required=True, type=int, help="requested period")
@click.option("--dataset", "datasets", multiple=True, required=True, metavar="NAME:COL,COL",
              help="a dataset and the columns needed (repeat for each dataset)")
@click.option("--raw", "raw", multiple=True, metavar="NAME:COL,COL",
              help="identifier columns needed as real values, not pseudonyms (reviewed)")
@click.option("--abroad", is_flag=True, help="results will be provided abroad")
@token_option
@json_option
def apply(scenario: str, description: str, purpose: str, products: str, months: int,
          datasets: tuple[str, ...], raw: tuple[str, ...], abroad: bool, token: str | None,
          as_json: bool) -> None:
    """Apply for the data one scenario needs: one scenario, one list, one approval."""
    from catalog.applications import Request, submit

    actor = acting(token)
    h = ready_home()
    with h.store.transaction() as session:
        app = submit(session, actor, h.policy,
                     Request(scenario, description, purpose, products, months, abroad,
                             _items(datasets, raw)))
        data = app.as_dict()
    _print(data, as_json, lambda d: f"application {d['id']} submitted; decision due by "
                                    f"{d['deadline']} (10 working days)")


@main.group()
def application() -> None:
    """Usage applications and their review."""


@application.command("list")
@click.option("--status")
@token_option
@json_option
def application_list(status: str | None, token: str | None, as_json: bool) -> None:
    from catalog.applications import list_applications

    actor = acting(token)
    with ready_home().store.read() as session:
        data = [a.as_dict() for a in list_applications(session, actor, status)]
    _print(data, as_json, lambda rows: "\n".join(
        f"{a['id']:>5}  {a['status']:10s} due {a['deadline']}  {a['org']}: {a['scenario']}"
        for a in rows) or "(no applications)")


@application.command("show")
@click.argument("application_id", type=int)
@token_option
@json_option
def application_show(application_id: int, token: str | None, as_json: bool) -> None:
    from catalog.applications import get

    actor = acting(token)
    with ready_home().store.read() as session:
        data = get(session, actor, application_id).as_dict()
    _print(data, as_json)


@application.command("decide")
@click.argument("application_id", type=int)
@click.option("--approve/--reject", required=True)
@click.option("--comment", default="")
@token_option
@json_option
def application_decide(application_id: int, approve: bool, comment: str, token: str | None,
                       as_json: bool) -> None:
    """Approve (creating a grant) or reject an application."""
    from catalog.applications import decide

    actor = acting(token)
    h = ready_home()
    with h.store.transaction() as session:
        data = decide(session, actor, h.policy, application_id, approve, comment).as_dict()
    _print(data, as_json, lambda d: f"application {d['id']} {d['status']}"
                                    + (f"; grant {d['grant_id']}" if d["grant_id"] else ""))


@application.command("sweep")
@json_option
def application_sweep(as_json: bool) -> None:
    """Apply the overdue action to late applications and end expired grants (operator)."""
    from catalog.applications import sweep

    h = ready_home()
    with h.store.transaction() as session:
        data = sweep(session, h.policy, h.data)
    _print(data, as_json)


@main.group()
def grant() -> None:
    """Grants of access (created by approvals)."""


@grant.command("list")
@token_option
@json_option
def grant_list(token: str | None, as_json: bool) -> None:
    from catalog.applications import list_grants
    from sandbox import jobs

    actor = acting(token)
    h = ready_home()
    with h.store.read() as session:
        data = [jobs.grant_view(h.policy, g) for g in list_grants(session, actor)]
    _print(data, as_json, lambda rows: "\n".join(
        f"{g['id']:>5}  {g['status']:8s} until {g['expires_at']}  {g['org']}: {g['scenario']}"
        for g in rows) or "(no grants)")


@grant.command("revoke")
@click.argument("grant_id", type=int)
@click.option("--reason", required=True)
@token_option
@json_option
def grant_revoke(grant_id: int, reason: str, token: str | None, as_json: bool) -> None:
    """Revoke a grant: new jobs are refused and the workspace data is deleted."""
    from catalog.applications import revoke

    actor = acting_or_operator(token)
    h = ready_home()
    with h.store.transaction() as session:
        data = revoke(session, actor, grant_id, reason, h.data).as_dict()
    _print(data, as_json, lambda d: f"grant {d['id']} revoked; workspace data deleted")


@main.group()
def alert() -> None:
    """Security alerts: a grant's real-data job budget spent, or a probing pattern."""


def _alert_text(a: dict[str, Any]) -> str:
    state = "open" if a["acknowledged_at"] is None else "acknowledged"
    return (f"{a['id']:>5}  {state:12s} {a['kind']:15s} grant {a['grant_id']}  {a['org']}  "
            f"{a['created_at']}")


@alert.command("list")
@click.option("--open", "open_only", is_flag=True, help="only alerts nobody acknowledged yet")
@token_option
@json_option
def alert_list(open_only: bool, token: str | None, as_json: bool) -> None:
    """The alerts, newest first (administrators)."""
    from sandbox import budget

    actor = acting_or_operator(token)
    with ready_home().store.read() as session:
        data = [a.as_dict() for a in budget.list_alerts(session, actor, open_only)]
    _print(data, as_json, lambda rows: "\n".join(_alert_text(a) for a in rows) or "(no alerts)")


@alert.command("ack")
@click.argument("alert_id", type=int)
@token_option
@json_option
def alert_ack(alert_id: int, token: str | None, as_json: bool) -> None:
    """Mark an alert as looked into (a new alert of its kind may then be raised)."""
    from sandbox import budget

    actor = acting_or_operator(token)
    with ready_home().store.transaction() as session:
        data = budget.acknowledge(session, actor, alert_id).as_dict()
    _print(data, as_json, _alert_text)


# -- jobs ----------------------------------------------------------------------------------

@main.group()
def job() -> None:
    """Sandbox jobs: one SQL SELECT over a grant's workspace."""


@job.command("submit")
@click.option("--grant", "grant_id", required=True, type=int)
@click.option("--sql", required=True)
@click.option("--output", "output_name", required=True, help="name of the output table")
@click.option("--target", default="real", type=click.Choice(["real", "simulated"]),
              help="simulated: run on the previews and show rows; real: results stay inside")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="wait for the job to end (running it here unless a worker takes it)")
@token_option
@json_option
def job_submit(grant_id: int, sql: str, output_name: str, target: str, wait: bool,
               token: str | None, as_json: bool) -> None:
    """Submit a job; real outputs show status, schema and row count only, simulated ones rows."""
    from sandbox import jobs

    actor = acting(token)
    h = ready_home()
    with h.store.transaction() as session:
        job_id = jobs.submit(session, actor, h.policy, h.data, grant_id, sql, output_name,
                             target).id
    if wait:
        from sandbox import visibility

        # A real job's outcome shows at its rounded duration (see sandbox.visibility).
        time.sleep(visibility.seconds_until_shown(h.policy, h.run_job(job_id)))
    data = _job_view(h, actor, job_id)
    _print(data, as_json, _job_text)
    if wait and data["status"] != "succeeded":
        sys.exit(1)


def _job_view(h: Home, actor: Actor, job_id: int) -> dict[str, Any]:
    from sandbox import jobs

    with h.store.read() as session:
        return jobs.view(h.data, h.policy, jobs.get(session, actor, job_id), actor)


def _job_text(d: dict[str, Any]) -> str:
    if d["status"] in ("queued", "running"):
        return f"job {d['id']} {d['status']}" + (" (cancellation asked)" if d["cancel_requested"]
                                                else "")
    if d["status"] != "succeeded":
        return f"job {d['id']} {d['status']}: {d['error']}"
    columns = ", ".join(f"{c['name']} {c['type']}" for c in d["output"]["schema"])
    text = (f"job {d['id']} succeeded in {d['duration_text']}: output {d['output_name']} "
            f"({d['output']['rows_text']} rows; {columns})")
    if d.get("result"):
        shown = d["result"]
        text += "\nSIMULATED DATA (not real values):\n" + _table(shown["columns"], shown["rows"])
        if shown["total_rows"] > len(shown["rows"]):
            text += f"\n... {shown['total_rows'] - len(shown['rows'])} more rows"
    elif d["target"] == "real":
        text += "\n(real data: rows stay inside the platform; request egress to release them)"
    return text


def _table(columns: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in columns]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True))
                     for row in cells)


@job.command("list")
@click.option("--grant", "grant_id", type=int)
@click.option("--status", type=click.Choice(["queued", "running", "succeeded", "failed",
                                             "timed_out", "cancelled"]))
@token_option
@json_option
def job_list(grant_id: int | None, status: str | None, token: str | None, as_json: bool) -> None:
    from sandbox import jobs, visibility

    actor = acting(token)
    h = ready_home()
    with h.store.read() as session:
        data = [visibility.shown(h.policy, j, actor)
                for j in jobs.list_jobs(session, actor, grant_id, status)]
    _print(data, as_json, lambda rows: "\n".join(
        f"{j['id']:>5}  {j['status']:10s} {j['target']:9s} grant {j['grant_id']}  "
        f"{j['output_name']}" for j in rows) or "(no jobs)")


@job.command("show")
@click.argument("job_id", type=int)
@token_option
@json_option
def job_show(job_id: int, token: str | None, as_json: bool) -> None:
    """A job's status, schema and row count (and rows, for a simulated job)."""
    actor = acting(token)
    _print(_job_view(ready_home(), actor, job_id), as_json, _job_text)


@job.command("cancel")
@click.argument("job_id", type=int)
@token_option
@json_option
def job_cancel(job_id: int, token: str | None, as_json: bool) -> None:
    """Cancel a queued job, or stop a running one."""
    from sandbox import jobs

    actor = acting(token)
    h = ready_home()
    with h.store.transaction() as session:
        jobs.cancel(session, actor, job_id)
    _print(_job_view(h, actor, job_id), as_json, _job_text)


@main.command()
@click.option("--size", type=int, help="jobs at once (default: the policy's pool_size)")
def worker(size: int | None) -> None:
    """Run jobs until stopped (Ctrl-C or SIGTERM); running jobs are then queued again. On
    PostgreSQL it takes deliveries from the shared queue and runs the periodic tasks, on as
    many machines as wanted; on SQLite it claims jobs from the local store."""
    h = ready_home()
    h.data.check()
    size = int(size if size is not None else h.policy.sandbox["pool_size"])
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


@main.group()
def sandbox() -> None:
    """The locked sandbox on local files, for developing SQL on previews and for testing."""


@sandbox.command("run")
@click.option("--data", "data", multiple=True, required=True, metavar="NAME=FILE[:col,...]",
              help="a table: its name, a Parquet or CSV file, and the columns to expose")
@click.option("--sql", required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="write the result to this .parquet or .csv file instead of printing it")
@json_option
def sandbox_run(data: tuple[str, ...], sql: str, out: Path | None, as_json: bool) -> None:
    """Run one SELECT in the same locked sandbox as a job, over only the listed columns."""
    from sandbox.local import parse_data, run_files

    policy = policy_in_force()
    try:
        outcome = run_files([parse_data(d) for d in data], sql, policy.sandbox, out)
    except DomainError as exc:
        outcome = {"status": "failed", "error": exc.message}
    if outcome["status"] != "succeeded":
        if as_json:
            click.echo(json.dumps({"error": outcome["error"]}, ensure_ascii=False))
        else:
            click.echo(f"error: {outcome['error']}", err=True)
        sys.exit(1)
    if out is not None:
        _print({"columns": outcome["columns"], "rows": outcome["rows"], "out": outcome["out"]},
               as_json, lambda d: f"{d['rows']} rows written to {d['out']}")
    elif as_json:
        click.echo(json.dumps({"columns": outcome["columns"], "rows": outcome["shown"]},
                              ensure_ascii=False, default=str))
    else:
        click.echo(_table(outcome["columns"], outcome["shown"]))


# -- egress and releases -------------------------------------------------------------------

@main.group()
def egress() -> None:
    """Requests to release a job's output, their checks and reviews."""


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    """NAME=TEXT options into a dict (a clear error when the = is missing)."""
    out = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"write {what} as NAME=TEXT, not {value!r}")
        out[name.strip()] = text
    return out


@egress.command("request")
@click.option("--job", "job_id", required=True, type=int)
@click.option("--product", required=True, help="the product's name (one the application named)")
@click.option("--purpose", required=True)
@click.option("--source", "sources", multiple=True, required=True, help="a dataset the product uses")
@click.option("--abroad", is_flag=True, help="the product goes abroad (needs an extra approval)")
@click.option("--justify", "justify", multiple=True, metavar="CHECK=TEXT",
              help="ask reviewers to override a failing check, and why")
@click.option("--mitigate", "mitigation", default="none",
              type=click.Choice(["none", "suppress", "round", "suppress+round"]),
              help="suppress failing cells (and those margins would reveal) / round counts")
@click.option("--draft", is_flag=True, help="keep it as a draft; submit with `egress resubmit`")
@token_option
@json_option
def egress_request(job_id: int, product: str, purpose: str, sources: tuple[str, ...],
                   abroad: bool, justify: tuple[str, ...], mitigation: str, draft: bool,
                   token: str | None, as_json: bool) -> None:
    """Request release of a job's output; automatic checks run at once."""
    from egress import requesting

    actor = acting(token)
    h = ready_home()
    with h.store.transaction() as session:
        req = requesting.request(session, actor, h.policy, h.data, h.pseudonym_secret, job_id,
                                 product, purpose, list(sources), abroad,
                                 _pairs(justify, "--justify"), mitigation, draft)
        data = requesting.view(req, actor)
    _print(data, as_json, _egress_text)


def _egress_text(d: dict[str, Any]) -> str:
    votes = f"{d['approvals']}/{d['required_approvals']} approvals" if d.get("approvals") \
        is not None else f"{d['votes_in']} vote(s) in, {d['required_approvals']} needed (blind)"
    lines = [f"egress request {d['id']} ({d['status']}, round {d['round']}): {d['product']}, "
             f"{votes}" + (f", deadline {d['deadline']}" if d.get("deadline") else "")
             + (" ESCALATED" if d.get("escalated") else "")]
    lines += [f"  [{c['verdict']:6s}] {c['name']}: {c['message']}" for c in d["checks"]]
    for check, text in (d.get("exceptions") or {}).items():
        lines.append(f"  exception asked for {check}: {text}")
    for r in d.get("reviews") or []:
        lines.append(f"  round {r['round']} {r['decision']}: {r['comment']}"
                     + (f" (overrides: {', '.join(r['overrides'])})" if r.get("overrides") else ""))
    return "\n".join(lines)


@egress.command("list")
@click.option("--status")
@token_option
@json_option
def egress_list(status: str | None, token: str | None, as_json: bool) -> None:
    """Requests you may see (reviewers: sorted by deadline)."""
    from egress import requesting

    actor = acting(token)
    with ready_home().store.read() as session:
        data = [requesting.view(r, actor) for r in requesting.list_requests(session, actor, status)]
    _print(data, as_json, lambda rows: "\n".join(_egress_text(r) for r in rows) or "(none)")


@egress.command("show")
@click.argument("request_id", type=int)
@token_option
@json_option
def egress_show(request_id: int, token: str | None, as_json: bool) -> None:
    from egress import requesting

    actor = acting(token)
    with ready_home().store.read() as session:
        data = requesting.view(requesting.get(session, actor, request_id), actor)
    _print(data, as_json, _egress_text)


@egress.command("resubmit")
@click.argument("request_id", type=int)
@click.option("--job", "job_id", type=int, help="a new output to release instead (votes reset)")
@click.option("--justify", "justify", multiple=True, metavar="CHECK=TEXT")
@click.option("--mitigate", "mitigation",
              type=click.Choice(["none", "suppress", "round", "suppress+round"]))
@click.option("--comment", default="", help="your answer to the reviewers' return")
@token_option
@json_option
def egress_resubmit(request_id: int, job_id: int | None, justify: tuple[str, ...],
                    mitigation: str | None, comment: str, token: str | None,
                    as_json: bool) -> None:
    """Submit a draft, answer a return, or update a request under review (checks run again;
    earlier votes no longer count)."""
    from egress import requesting

    actor = acting(token)
    h = ready_home()
    with h.store.transaction() as session:
        req = requesting.resubmit(session, actor, h.policy, h.data, h.pseudonym_secret,
                                  request_id, job_id, _pairs(justify, "--justify") or None,
                                  mitigation, comment)
        data = requesting.view(req, actor)
    _print(data, as_json, _egress_text)


@egress.command("withdraw")
@click.argument("request_id", type=int)
@click.option("--reason", default="")
@token_option
@json_option
def egress_withdraw(request_id: int, reason: str, token: str | None, as_json: bool) -> None:
    """Withdraw a request (final)."""
    from egress import requesting

    actor = acting(token)
    with ready_home().store.transaction() as session:
        data = requesting.view(requesting.withdraw(session, actor, request_id, reason), actor)
    _print(data, as_json, _egress_text)


@egress.command("review")
@click.argument("request_id", type=int)
@click.option("--approve", "decision", flag_value="approve")
@click.option("--reject", "decision", flag_value="reject")
@click.option("--return", "decision", flag_value="return", help="send back for changes")
@click.option("--comment", required=True, help="public: the merchant reads it")
@click.option("--private-comment", default="", help="for reviewers and administrators only")
@click.option("--point", "points", multiple=True, metavar="POINT=ANSWER[:COMMENT]",
              help="answer a review point: purpose_scope, sources, raw_exposure, "
                   "personal_information_trade_secrets, cross_border, other_risks; "
                   "ANSWER is yes, no or n/a")
@click.option("--override", "overrides", multiple=True, metavar="CHECK",
              help="override a failing check (each needs a --reason, in the same order)")
@click.option("--reason", "reasons", multiple=True)
@token_option
@json_option
def egress_review(request_id: int, decision: str | None, comment: str, private_comment: str,
                  points: tuple[str, ...], overrides: tuple[str, ...], reasons: tuple[str, ...],
                  token: str | None, as_json: bool) -> None:
    """Vote on an egress request; the last approval needed signs the release."""
    from egress import requesting, review

    if decision is None:
        raise click.UsageError("give one of --approve, --reject or --return")
    if len(overrides) != len(reasons):
        raise click.UsageError("give one --reason for each --override")
    checklist = {}
    for point, text in _pairs(points, "--point").items():
        answer, _, note = text.partition(":")
        checklist[point] = {"answer": answer.strip(), "comment": note.strip()}
    actor = acting(token)
    h = ready_home()
    with h.store.transaction() as session:
        req = review.vote(session, actor, h.policy, h.data, h.signer, request_id, decision,
                          comment, private_comment, checklist, dict(zip(overrides, reasons,
                                                                        strict=True)))
        data = requesting.view(req, actor)
    _print(data, as_json, _egress_text)


@egress.command("sweep")
@json_option
def egress_sweep(as_json: bool) -> None:
    """Escalate egress reviews past their deadline (never approves them)."""
    from egress import review

    h = ready_home()
    with h.store.transaction() as session:
        data = {"escalated": review.sweep(session, h.policy)}
    _print(data, as_json, lambda d: f"escalated: {d['escalated'] or 'none'}")


@main.group()
def product() -> None:
    """Registered data products (released)."""


@product.command("list")
@token_option
@json_option
def product_list(token: str | None, as_json: bool) -> None:
    """Released products with their registration numbers and source datasets'."""
    from egress import requesting

    actor = acting(token)
    with ready_home().store.read() as session:
        data = requesting.products(session, actor)
    _print(data, as_json, lambda rows: "\n".join(
        f"{r['product_no']}  {r['product']}  ({r['org']}, {r['created_at']}) from "
        + ", ".join(f"{s['dataset']} {s['registration_no']} v{s['version']}" for s in r["sources"])
        for r in rows) or "(no products)")


@main.group()
def release() -> None:
    """Signed release bundles."""


@release.command("list")
@token_option
@json_option
def release_list(token: str | None, as_json: bool) -> None:
    from egress import requesting

    actor = acting(token)
    with ready_home().store.read() as session:
        data = [r.as_dict() for r in requesting.list_releases(session, actor)]
    _print(data, as_json)


@release.command("verify")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--pubkey", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="the platform's public key to trust (else the bundle's own, reported)")
@json_option
def release_verify(directory: Path, pubkey: Path | None, as_json: bool) -> None:
    """Check a release bundle's signature and file hashes offline; exit 1 if anything is off."""
    from egress.bundle import verify_bundle

    data = verify_bundle(directory, pubkey.read_bytes() if pubkey else None)
    _print(data, as_json, lambda d: (
        f"VALID release {d.get('release_id')} signed by key {d.get('key_id')}"
        + ("; its release event is in the signed ledger (inclusion proof checked)"
           if d.get("logged") else "; no ledger proof in the bundle")
        + ("" if d.get("trusted_key") else " (the bundle's own key: compare its id with the "
                                          "platform's published key id)")
        if d["valid"] else "INVALID: " + "; ".join(d["problems"])))
    if not data["valid"]:
        sys.exit(1)


# -- ledger --------------------------------------------------------------------------------

@main.group()
def ledger() -> None:
    """The tamper-evident ledger (operator of the home)."""


@ledger.command("verify")
@json_option
def ledger_verify(as_json: bool) -> None:
    """Recompute the chain and check it against the signed checkpoints; exit 1 if invalid."""
    from lineage import verify_ledger

    h = ready_home()
    with h.store.read() as session:
        data = verify_ledger(session, h.genesis_public_key, h.witness_path, h.origin).as_dict()
    _print(data, as_json, lambda d: (
        f"{'VALID' if d['valid'] else 'INVALID'}: {d['events']} events, "
        f"{d['checkpoints']} checkpoints" + "".join(f"\n  problem: {p}" for p in d["problems"])
        + "".join(f"\n  warning: {w}" for w in d["warnings"])))
    if not data["valid"]:
        sys.exit(1)


@ledger.command("log")
@click.option("--actor")
@click.option("--action")
@click.option("--subject")
@click.option("--since", help="from this time (ISO date or date-time, UTC)")
@click.option("--until", help="before this time (ISO date or date-time, UTC)")
@click.option("--before", "before_seq", type=int, help="page: events before this sequence number")
@click.option("--limit", type=int, default=50, show_default=True)
@json_option
def ledger_log(actor: str | None, action: str | None, subject: str | None, since: str | None,
               until: str | None, before_seq: int | None, limit: int, as_json: bool) -> None:
    """Search ledger events, newest first, each with its verification status; page with
    --before (the `next_before` of the previous page)."""
    from lineage.audit import search

    h = ready_home()
    with h.store.read() as session:
        data = search(session, actor=actor, action=action, subject=subject, since=since,
                      until=until, before_seq=before_seq, limit=limit)
    _print(data, as_json, lambda d: "\n".join(
        f"{e['seq']:>7}  {e['time']}  {e['status']:13s} {e['actor']:12s} {e['action']:28s} "
        f"{e['subject']}" for e in d["events"]) + (
        f"\n(more: --before {d['next_before']})" if d["next_before"] else "") or "(no events)")


@ledger.command("archive")
@click.option("--before", required=True, metavar="YYYY-MM",
              help="seal every whole month before this one")
@json_option
def ledger_archive(before: str, as_json: bool) -> None:
    """Seal whole months into Parquet files with a signed manifest (TDS_HOME/ledger/archive)."""
    from catalog.models import utcnow
    from lineage.archive import archive

    h = ready_home()
    with h.store.transaction() as session:
        data = archive(session, OPERATOR, h.data.local("ledger"), h.signer, h.origin, before,
                       utcnow())
        h.data.put("ledger")
    _print(data, as_json, lambda rows: "\n".join(
        f"sealed {m['month']}: events {m['first_seq']}-{m['last_seq']} ({m['events']}), "
        f"{m['path']}, root {m['root'][:16]}..." for m in rows) or "(no month left to seal)")


@ledger.command("purge")
@click.option("--before", required=True, metavar="YYYY-MM",
              help="purge archived months before this one whose retention has passed")
@json_option
def ledger_purge(before: str, as_json: bool) -> None:
    """Delete the rows of archived events older than the policy's retention (leaves stay)."""
    from catalog.models import utcnow
    from lineage.archive import purge

    h = ready_home()
    with h.store.transaction() as session:
        data = purge(session, OPERATOR, before, h.policy.retention_years, utcnow())
    _print(data, as_json, lambda d: f"purged {d['events']} events of {', '.join(d['months'])}")


@ledger.command("proof")
@click.argument("seq", type=int)
@json_option
def ledger_proof(seq: int, as_json: bool) -> None:
    """Inclusion proof of event SEQ against the latest signed checkpoint."""
    from lineage.proofs import inclusion, verify_inclusion

    h = ready_home()
    with h.store.read() as session:
        data = inclusion(session, seq, archive_dir=h.ledger_archives())
    problems = verify_inclusion(data, [h.public_key, h.genesis_public_key])
    _print(data, as_json, lambda d: (
        f"event {seq} ({d['event']['action']} {d['event']['subject']}) is leaf {d['leaf_index']} "
        f"of the tree of {d['tree_size']} events with root {d['checkpoint']['root']}\n"
        f"signed by key {d['checkpoint']['key_id']} at {d['checkpoint']['time']}; "
        f"{len(d['proof'])} proof hashes: "
        + ("verified" if not problems else "NOT VERIFIED: " + "; ".join(problems))))


@ledger.command("consistency")
@click.argument("old", type=int)
@click.argument("new", type=int, required=False)
@json_option
def ledger_consistency(old: int, new: int | None, as_json: bool) -> None:
    """Consistency proof between the checkpoints at sizes OLD and NEW (default: the latest)."""
    from lineage.proofs import consistency

    h = ready_home()
    with h.store.read() as session:
        data = consistency(session, old, new)
    _print(data, as_json, lambda d: (
        f"{'CONSISTENT' if d['valid'] else 'INCONSISTENT'}: the tree of {d['old']['size']} events "
        f"(root {d['old']['root'][:16]}...) is {'a' if d['valid'] else 'NOT a'} prefix of the "
        f"tree of {d['new']['size']} (root {d['new']['root'][:16]}...); "
        f"{len(d['proof'])} proof hashes"))
    if not data["valid"]:
        sys.exit(1)


@main.group()
def lineage() -> None:
    """Where data came from and went (built from the ledger)."""


@lineage.command("show")
@click.argument("node")
@click.option("--up", "direction", flag_value="up", help="only where it came from")
@click.option("--down", "direction", flag_value="down", help="only where it went")
@click.option("--dot", "as_dot", is_flag=True, help="print Graphviz DOT")
@click.option("--svg", type=click.Path(path_type=Path, dir_okay=False),
              help="write the picture as SVG to this file")
@json_option
def lineage_show(node: str, direction: str | None, as_dot: bool, svg: Path | None,
                 as_json: bool) -> None:
    """Lineage of NODE: dataset:NAME, dataset_version:ID, job:ID, output:ID, egress:ID or
    release:ID, up- and downstream unless --up or --down."""
    from lineage import graph as lineage_graph

    h = ready_home()
    with h.store.read() as session:
        part = lineage_graph.neighbourhood(lineage_graph.build(session), node,
                                           direction or "both")
    if svg is not None:
        svg.write_bytes(lineage_graph.to_svg(part))
    if as_dot:
        click.echo(lineage_graph.to_dot(part), nl=False)
        return
    data = part.as_dict()
    _print(data, as_json, lambda d: "\n".join(
        [f"{n['id']:22s} {n.get('label', '')}" for n in d["nodes"]]
        + [f"  {e['from']} -> {e['to']}" for e in d["edges"]]
        + ([f"picture: {svg}"] if svg else [])))


@lineage.command("export")
@click.option("--openlineage", "target", required=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="write OpenLineage events (JSON lines) to this file")
def lineage_export(target: Path) -> None:
    """Export dataset versions and jobs as OpenLineage DatasetEvents and RunEvents."""
    from service.openlineage import export

    h = ready_home()
    if target.exists():
        raise click.BadParameter(f"{target} exists; choose a new file", param_hint="--openlineage")
    with h.store.read() as session:
        count = export(session, h.origin, target)
    click.echo(f"wrote {count} OpenLineage events to {target}")


@main.group()
def report() -> None:
    """Reports the Measures require, built from the ledger."""


@report.command("disclosure")
@click.option("--year", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["md", "json", "html"]), default="md",
              show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="write to a file")
def report_disclosure(year: int, fmt: str, out: Path | None) -> None:
    """The annual disclosure report: grants, products, use per dataset, review timeliness,
    security events and the monitoring indicators."""
    from lineage.report import disclosure, render

    h = ready_home()
    with h.store.read() as session:
        text = render(disclosure(session, year), fmt)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)


@main.group()
def keys() -> None:
    """The platform's signing key (operator of the home)."""


@keys.command("rotate")
@json_option
def keys_rotate(as_json: bool) -> None:
    """Replace the platform key; the rotation is logged and signed by the old key."""
    h = ready_home()
    data = h.rotate_key(OPERATOR)
    _print(data, as_json, lambda d: (
        f"rotated: key {d['old_key_id']} signed the rotation to {d['new_key_id']} "
        f"(event {d['seq']}); checkpoints from size {d['seq']} on use the new key"))


# -- offline tools -------------------------------------------------------------------------

@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--sample", type=int, help="values sampled per column (default: policy)")
@click.option("--full", is_flag=True, help="scan every value")
@json_option
def scan(file: Path, sample: int | None, full: bool, as_json: bool) -> None:
    """PII scan of a Parquet or CSV file, column by column: the entity each column holds (when
    at least the policy's share of its values has it), and the hits of every entity."""
    if full and sample:
        raise click.BadParameter("give --sample or --full, not both", param_hint="--sample")
    if sample is not None and sample < 1:
        raise click.BadParameter("must be at least 1", param_hint="--sample")
    from anonymize import scan_table  # Presidio: loaded once the arguments are known good
    from catalog.files import read_table

    policy = policy_in_force()
    table = read_table(file)
    rows = None if full else (sample or policy.scan_sample_rows)
    scanned = min(rows or table.num_rows, table.num_rows) * table.num_columns
    with _progress(table.num_columns, "scanning columns",
                   show=not as_json and scanned >= PROGRESS_MIN_CELLS) as advance:
        results = scan_table(table, rows, policy.entity_min_share, threads=policy.scan_threads,
                             progress=advance)
    data = [s.as_dict() for s in results]
    _print(data, as_json, _scan_text)


PROGRESS_MIN_CELLS = 1_000_000  # scans of fewer cells finish before a bar would help


@contextlib.contextmanager
def _progress(total: int, label: str, show: bool) -> Iterator[Callable[[str], None]]:
    """A progress bar on standard error (not with --json), advanced once per item."""
    if not show:
        yield lambda _name: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit="col", file=sys.stderr, leave=False) as bar:
        lock = threading.Lock()

        def advance(name: str) -> None:
            with lock:
                bar.set_postfix_str(name[:24], refresh=False)
                bar.update(1)

        yield advance


def _scan_text(columns: list[dict[str, Any]]) -> str:
    lines = []
    for c in columns:
        hits = ", ".join(f"{e} {n}" for e, n in sorted(c["hits"].items(), key=lambda x: -x[1]))
        lines.append(f"{c['name']:24s} {c['entity'] or '-':18s} {c['fraction']:6.1%} of "
                     f"{c['scanned']:<9} {hits}")
    return "\n".join(lines)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--rows", type=click.IntRange(1, 10_000_000), required=True,
              help="simulated rows to write")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="where to write them (.parquet or .csv)")
@click.option("--level", default="L3", show_default=True,
              help="the level whose k minimum makes a category rare (policy)")
@click.option("--seed", type=int, default=0, show_default=True)
@json_option
def synth(file: Path, rows: int, out: Path, level: str, seed: int, as_json: bool) -> None:
    """Simulated rows with the columns and types of a Parquet or CSV file: identifiers and PII
    are generated afresh, other columns modelled (SDV Gaussian copula); no real value or row
    is reused."""
    policy = policy_in_force()
    if level not in policy.levels:
        raise click.BadParameter(f"one of {', '.join(policy.levels)}", param_hint="--level")
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise click.BadParameter("write a .parquet or .csv file", param_hint="--out")
    if out.exists():
        raise click.BadParameter(f"{out} exists; choose a new file", param_hint="--out")
    # Imported once the arguments are known good: SDV and PyTorch take seconds to load, and a
    # mistyped command should be answered at once.
    from catalog.files import read_table, write_parquet_atomically
    from synth.simulate import Options, simulate

    table = read_table(file)
    simulated, report = simulate(table, Options(rows=rows, k_min=policy.levels[level].k_min,
                                                fit_rows=policy.synth_fit_rows, seed=seed),
                                 home().root / "synth")
    if out.suffix.lower() == ".parquet":
        write_parquet_atomically(simulated, out)
    else:
        import pyarrow.csv as pacsv
        pacsv.write_csv(simulated, out)
    report["out"] = str(out)
    _print(report, as_json, lambda d: (
        f"wrote {d['rows']} simulated rows to {d['out']} in {d['seconds']} s: quality "
        f"{d['quality']}, real rows reproduced {d['exact_row_matches']}, real identifier "
        f"values reused {d['reused_identifier_values']}"))


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--qi", required=True, help="quasi-identifier columns, comma-separated")
@click.option("--sensitive", help="the sensitive column (for l, entropy-l and t)")
@click.option("--level", default="L3", show_default=True,
              help="the level whose k minimum counts rows below k (policy)")
@json_option
def kanon(file: Path, qi: str, sensitive: str | None, level: str, as_json: bool) -> None:
    """k-anonymity, l-diversity, entropy l-diversity, t-closeness and re-identification risk
    of a Parquet or CSV file."""
    from anonymize.privacy import measure

    policy = policy_in_force()
    if level not in policy.levels:
        raise click.BadParameter(f"one of {', '.join(policy.levels)}", param_hint="--level")
    columns = [c.strip() for c in qi.split(",") if c.strip()]
    data = measure(file, columns, sensitive, policy.levels[level].k_min,
                   threads=int(policy.sandbox["threads"]))
    _print(data, as_json, _kanon_text)


def policy_in_force():
    """The home's policy, or the default one for tools run outside a home."""
    from policies import load_policy

    h = home()
    return h.policy if h.initialized else load_policy()


def _kanon_text(d: dict[str, Any]) -> str:
    lines = [f"rows {d['rows']}, equivalence classes {d['equivalence_classes']}",
             f"k = {d['k']}  ({d['rows_below_k_min']} rows in classes below k = {d['k_min']})"]
    if d["sensitive"]:
        lines.append(f"l = {d['l']}, entropy-l = {d['entropy_l']} ({d['entropy_l_value']:.4f}), "
                     f"t = {d['t']:.4f} ({d['t_distance']} distance) for {d['sensitive']}")
    risk = d["risk"]
    lines.append(f"prosecutor risk: highest {risk['prosecutor']['highest']:.4f}, average "
                 f"{risk['prosecutor']['average']:.4f}; marketer risk {risk['marketer']['average']:.4f}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
