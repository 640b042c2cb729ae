"""tds job, alert and sandbox: SQL jobs on a grant's workspace, security alerts, and the
locked sandbox on local files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from service.cli.base import (
    acting,
    acting_or_operator,
    emit,
    fail,
    json_option,
    policy_in_force,
    table,
    token_option,
)

JOB_STATES = ["queued", "running", "succeeded", "failed", "timed_out", "cancelled"]


@click.group()
def job() -> None:
    """Sandbox jobs: one SQL SELECT over a grant's workspace."""


@job.command("submit")
@click.option("--grant", "grant_id", required=True, type=int)
@click.option("--sql", required=True)
@click.option("--output", "output_name", default="",
              help="name of the output table (a simulated run without one leaves a draft)")
@click.option("--target", default="real", type=click.Choice(["real", "simulated"]),
              help="simulated: run on the previews and show rows; real: results stay inside")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="wait for the job to end (running it here unless a worker takes it)")
@token_option
@json_option
def job_submit(grant_id: int, sql: str, output_name: str, target: str, wait: bool,
               token: str | None, as_json: bool) -> None:
    """Submit a job; real outputs show status, schema and row count only, simulated ones rows."""
    from actions import jobs

    ctx = acting(token)
    _followed(ctx, jobs.submit(ctx, grant_id, sql, output_name, target)["id"], wait, as_json)


def _followed(ctx: Any, job_id: int, wait: bool, as_json: bool) -> None:
    """Show a submitted job, waited for if asked (exit 1 if it did not succeed)."""
    from actions import jobs

    data = jobs.wait(ctx, job_id) if wait else jobs.show(ctx, job_id)
    emit(data, as_json, job_text)
    if wait and data["status"] != "succeeded":
        sys.exit(1)


def _bounded(raw: str, statistic: str) -> dict[str, Any]:
    """COLUMN:LOWER:UPPER (and :ALPHA for a quantile) as a measure of the DP spec."""
    parts = raw.rsplit(":", 3 if statistic == "quantile" else 2)
    if statistic == "quantile" and len(parts) == 3:
        parts.append("0.5")
    if len(parts) != (4 if statistic == "quantile" else 3):
        raise click.UsageError(f"--{statistic} takes COLUMN:LOWER:UPPER" + (
            " or COLUMN:LOWER:UPPER:ALPHA" if statistic == "quantile" else ""))
    try:
        figures = [float(p) for p in parts[1:]]
    except ValueError:
        raise click.UsageError(f"--{statistic} {raw}: the bounds must be numbers") from None
    measure = {"statistic": statistic, "column": parts[0], "lower": figures[0],
               "upper": figures[1]}
    if statistic == "quantile":
        measure["alpha"] = figures[2]
    return measure


def dp_spec(table_name: str, by: tuple[str, ...], count: bool, sums: tuple[str, ...],
            means: tuple[str, ...], quantiles: tuple[str, ...], where: str, epsilon: float,
            contributions: int) -> dict[str, Any]:
    """The DP spec the options describe (``--by COL=k1,k2``: keys; ``--by COL``: the
    preview's values)."""
    groups = []
    for entry in by:
        column, _, keys = entry.partition("=")
        groups.append({"column": column, **({"keys": keys.split(",")} if keys else {})})
    measures = [{"statistic": "count"}] if count else []
    for statistic, values in (("sum", sums), ("mean", means), ("quantile", quantiles)):
        measures += [_bounded(v, statistic) for v in values]
    return {"table": table_name, "by": groups, "measures": measures, "where": where,
            "epsilon": epsilon, "contributions": contributions}


@job.command("dp")
@click.option("--grant", "grant_id", required=True, type=int)
@click.option("--table", "table_name", help="the granted dataset it reads")
@click.option("--by", multiple=True, help="group column, with its keys: COLUMN=k1,k2 "
              "(without keys: the simulated preview's values)")
@click.option("--count", is_flag=True, help="noisy count of rows per group")
@click.option("--sum", "sums", multiple=True, help="COLUMN:LOWER:UPPER (values clamped)")
@click.option("--mean", "means", multiple=True, help="COLUMN:LOWER:UPPER")
@click.option("--quantile", "quantiles", multiple=True,
              help="COLUMN:LOWER:UPPER[:ALPHA] (ALPHA 0.5, the median, by default)")
@click.option("--where", default="", help="filter expression over the table's columns")
@click.option("--epsilon", type=float, help="privacy loss of the job (spent on real data)")
@click.option("--contributions", default=1, show_default=True, type=int,
              help="rows counted per person at most")
@click.option("--spec", "spec_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the whole spec as a JSON file instead of the options above")
@click.option("--output", "output_name", required=True, help="name of the output table")
@click.option("--target", default="real", type=click.Choice(["real", "simulated"]))
@click.option("--wait/--no-wait", default=True, show_default=True)
@token_option
@json_option
def job_dp(grant_id: int, table_name: str | None, by: tuple[str, ...], count: bool,
           sums: tuple[str, ...], means: tuple[str, ...], quantiles: tuple[str, ...],
           where: str, epsilon: float | None, contributions: int, spec_file: Path | None,
           output_name: str, target: str, wait: bool, token: str | None,
           as_json: bool) -> None:
    """Submit a differentially private job: counts, sums, means and quantiles per group of one
    granted dataset, with OpenDP noise; on real data it spends EPSILON of the grant's budget."""
    from actions import jobs

    if spec_file is not None:
        try:
            spec = json.loads(spec_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise click.UsageError(f"cannot read the spec {spec_file}: {exc}") from None
    else:
        if not table_name or epsilon is None:
            raise click.UsageError("give --table and --epsilon (or --spec FILE)")
        spec = dp_spec(table_name, by, count, sums, means, quantiles, where, epsilon,
                       contributions)
    ctx = acting(token)
    _followed(ctx, jobs.submit_dp(ctx, grant_id, spec, output_name, target)["id"], wait, as_json)


@job.command("budget")
@click.option("--grant", "grant_id", required=True, type=int)
@token_option
@json_option
def job_budget(grant_id: int, token: str | None, as_json: bool) -> None:
    """The grant's privacy budget (epsilon) for DP jobs on real data: spent and left."""
    from actions import jobs

    emit(jobs.privacy_budget(acting(token), grant_id), as_json, lambda b: "\n".join(
        [f"grant {b['grant_id']}: epsilon {b['spent']:g} spent of {b['budget']:g}, "
         f"{b['remaining']:g} left (at most {b['max_epsilon_per_job']:g} per job)"] +
        [f"  job {j['job_id']:>5}  {j['epsilon']:g}  {j['status']:10s} {j['output_name']}"
         for j in b["jobs"]]))


def job_text(d: dict[str, Any]) -> str:
    text = _status_text(d)
    if d.get("dp"):
        text += (f"\ndifferentially private: epsilon {d['dp']['epsilon']:g}, delta 0, at most "
                 f"{d['dp']['contributions']} row(s) per person")
    return text


def _status_text(d: dict[str, Any]) -> str:
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
        text += "\nSIMULATED DATA (not real values):\n" + table(shown["columns"], shown["rows"])
        if shown["total_rows"] > len(shown["rows"]):
            text += f"\n... {shown['total_rows'] - len(shown['rows'])} more rows"
    elif d["target"] == "real":
        text += "\n(real data: rows stay inside the platform; request egress to release them)"
    return text


@job.command("list")
@click.option("--grant", "grant_id", type=int)
@click.option("--status", type=click.Choice(JOB_STATES))
@token_option
@json_option
def job_list(grant_id: int | None, status: str | None, token: str | None, as_json: bool) -> None:
    from actions import jobs

    emit(jobs.search(acting(token), grant_id, status), as_json, lambda rows: "\n".join(
        f"{j['id']:>5}  {j['status']:10s} {j['target']:9s} grant {j['grant_id']}  "
        f"{j['output_name']}" for j in rows) or "(no jobs)")


@job.command("show")
@click.argument("job_id", type=int)
@token_option
@json_option
def job_show(job_id: int, token: str | None, as_json: bool) -> None:
    """A job's status, schema and row count (and rows, for a simulated job)."""
    from actions import jobs

    emit(jobs.show(acting(token), job_id), as_json, job_text)


@job.command("keep")
@click.argument("job_id", type=int)
@click.argument("name")
@token_option
@json_option
def job_keep(job_id: int, name: str, token: str | None, as_json: bool) -> None:
    """Name a simulated draft so that later jobs read it by NAME."""
    from actions import jobs

    emit(jobs.keep(acting(token), job_id, name), as_json, job_text)


@job.command("cancel")
@click.argument("job_id", type=int)
@token_option
@json_option
def job_cancel(job_id: int, token: str | None, as_json: bool) -> None:
    """Cancel a queued job, or stop a running one."""
    from actions import jobs

    ctx = acting(token)
    jobs.cancel(ctx, job_id)
    emit(jobs.show(ctx, job_id), as_json, job_text)


@click.group()
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
    from actions import jobs

    emit(jobs.alerts(acting_or_operator(token), open_only), as_json,
         lambda rows: "\n".join(_alert_text(a) for a in rows) or "(no alerts)")


@alert.command("ack")
@click.argument("alert_id", type=int)
@token_option
@json_option
def alert_ack(alert_id: int, token: str | None, as_json: bool) -> None:
    """Mark an alert as looked into (a new alert of its kind may then be raised)."""
    from actions import jobs

    emit(jobs.acknowledge(acting_or_operator(token), alert_id), as_json, _alert_text)


@click.group()
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
    from policies import DomainError
    from sandbox.local import parse_data, run_files

    policy = policy_in_force()
    try:
        outcome = run_files([parse_data(d) for d in data], sql, dict(policy.sandbox), out)
    except DomainError as exc:
        outcome = {"status": "failed", "error": exc.message}
    if outcome["status"] != "succeeded":
        fail(outcome["error"], as_json)
    if out is not None:
        emit({"columns": outcome["columns"], "rows": outcome["rows"], "out": outcome["out"]},
             as_json, lambda d: f"{d['rows']} rows written to {d['out']}")
    elif as_json:
        click.echo(json.dumps({"columns": outcome["columns"], "rows": outcome["shown"]},
                              ensure_ascii=False, default=str))
    else:
        click.echo(table(outcome["columns"], outcome["shown"]))


COMMANDS = [job, alert, sandbox]
