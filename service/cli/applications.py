"""tds apply, application and grant: one scenario, one list, one approval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from service.cli.base import acting, acting_or_operator, emit, json_option, operating, token_option
from service.cli.params import COLUMNS, grouped


def _items(datasets: tuple[tuple[str, list[str]], ...],
           raw: tuple[tuple[str, list[str]], ...]) -> list[dict[str, Any]]:
    chosen, raw_columns = grouped(datasets), grouped(raw)
    unknown = set(raw_columns) - set(chosen)
    if unknown:
        raise click.BadParameter(f"{sorted(unknown)[0]!r} is not among --dataset",
                                 param_hint="--raw")
    return [{"dataset": name, "columns": columns, "raw_columns": raw_columns.get(name, [])}
            for name, columns in chosen.items()]


def _filing(command: Any) -> Any:
    """The options of an application, shared by apply and amend."""
    for option in reversed((
        click.option("--scenario", required=True,
                     help="scenario name (one scenario per application)"),
        click.option("--description", required=True, help="what the scenario is"),
        click.option("--purpose", required=True),
        click.option("--products", required=True, help="products the scenario will produce"),
        click.option("--months", required=True, type=int, help="requested period"),
        click.option("--dataset", "datasets", multiple=True, required=True, type=COLUMNS,
                     help="a dataset and the columns needed (repeat for each dataset)"),
        click.option("--raw", "raw", multiple=True, type=COLUMNS,
                     help="identifier columns needed as real values, not pseudonyms (reviewed)"),
        click.option("--abroad", is_flag=True, help="results will be provided abroad"),
        token_option, json_option,
    )):
        command = option(command)
    return command


def _submitted(d: dict[str, Any]) -> str:
    return f"application {d['id']} submitted; decision due by {d['deadline']}"


@click.command()
@_filing
def apply(scenario: str, description: str, purpose: str, products: str, months: int,
          datasets: tuple[tuple[str, list[str]], ...], raw: tuple[tuple[str, list[str]], ...],
          abroad: bool, token: str | None, as_json: bool) -> None:
    """Apply for the data one scenario needs: one scenario, one list, one approval."""
    from actions import applications
    from catalog.applications import Request

    items = _items(datasets, raw)
    data = applications.submit(acting(token), Request(scenario, description, purpose, products,
                                                      months, abroad, items))
    emit(data, as_json, _submitted)


@click.group()
def application() -> None:
    """Usage applications and their review."""


@application.command("list")
@click.option("--status")
@token_option
@json_option
def application_list(status: str | None, token: str | None, as_json: bool) -> None:
    from actions import applications

    emit(applications.search(acting(token), status), as_json, lambda rows: "\n".join(
        f"{a['id']:>5}  {a['status']:10s} due {a['deadline']}  {a['org']}: {a['scenario']}"
        for a in rows) or "(no applications)")


@application.command("show")
@click.argument("application_id", type=int)
@token_option
@json_option
def application_show(application_id: int, token: str | None, as_json: bool) -> None:
    from actions import applications

    emit(applications.show(acting(token), application_id), as_json)


RATING = click.Choice(["pass", "concern", "fail"])


def _assessing(command: Any) -> Any:
    """The three points of an assessment, each rated pass, concern or fail."""
    for option in reversed((
        click.option("--reasonableness", type=RATING, help="合理性: is the use reasonable for "
                     "the scenario"),
        click.option("--compliance", type=RATING, help="合规性: lawful and within the rules"),
        click.option("--security", type=RATING, help="安全性: safe to grant"),
    )):
        command = option(command)
    return command


def _rated(reasonableness: str | None, compliance: str | None,
           security: str | None) -> dict[str, str] | None:
    given = {"reasonableness": reasonableness, "compliance": compliance, "security": security}
    return {k: v for k, v in given.items() if v} or None


@application.command("decide")
@click.argument("application_id", type=int)
@click.option("--approve", "decision", flag_value="approve", help="approve: creates a grant")
@click.option("--reject", "decision", flag_value="reject", help="reject (comment required)")
@click.option("--return", "decision", flag_value="return",
              help="return for amendment, 退回补正 (comment required)")
@click.option("--comment", default="")
@_assessing
@token_option
@json_option
def application_decide(application_id: int, decision: str | None, comment: str,
                       reasonableness: str | None, compliance: str | None,
                       security: str | None, token: str | None, as_json: bool) -> None:
    """Approve (creating a grant), reject, or return an application for amendment (审核).
    An approval needs the three ratings, every providing department's agreement and the
    required attachments."""
    from actions import applications

    if decision is None:
        raise click.UsageError("give one of --approve, --reject or --return")
    data = applications.decide(acting(token), application_id, decision, comment,
                               _rated(reasonableness, compliance, security))
    emit(data, as_json, lambda d: f"application {d['id']} {d['status']}"
                                  + (f"; grant {d['grant_id']}" if d["grant_id"] else "")
                                  + (f"; amend by {d['deadline']}"
                                     if d["status"] == "returned" else ""))


@application.command("amend")
@click.argument("application_id", type=int)
@_filing
def application_amend(application_id: int, scenario: str, description: str, purpose: str,
                      products: str, months: int, datasets: tuple[tuple[str, list[str]], ...],
                      raw: tuple[tuple[str, list[str]], ...], abroad: bool, token: str | None,
                      as_json: bool) -> None:
    """Resubmit a returned application with changes (the whole application, as in apply)."""
    from actions import applications
    from catalog.applications import Request

    data = applications.amend(acting(token), application_id, Request(
        scenario, description, purpose, products, months, abroad, _items(datasets, raw)))
    emit(data, as_json, _submitted)


@application.command("withdraw")
@click.argument("application_id", type=int)
@token_option
@json_option
def application_withdraw(application_id: int, token: str | None, as_json: bool) -> None:
    """Take back an application of your organization not yet decided."""
    from actions import applications

    emit(applications.withdraw(acting(token), application_id), as_json,
         lambda d: f"application {d['id']} withdrawn")


@application.command("sweep")
@json_option
def application_sweep(as_json: bool) -> None:
    """Apply the overdue action to late applications, end expired grants, qualify the
    organizations whose public notice ended and e-mail notice digests (operator)."""
    from actions import notices, sweeps

    ctx = operating()
    data = sweeps.overdue(ctx)
    data["expired_grants"] = sweeps.expired_grants(ctx)
    data["qualified"] = sweeps.qualifications(ctx)
    data["mailed"] = notices.send_digests(ctx)
    emit(data, as_json)


@click.group()
def grant() -> None:
    """Grants of access (created by approvals)."""


@grant.command("list")
@token_option
@json_option
def grant_list(token: str | None, as_json: bool) -> None:
    from actions import applications

    emit(applications.grants(acting(token)), as_json, lambda rows: "\n".join(
        f"{g['id']:>5}  {g['status']:8s} until {g['expires_at']}  {g['org']}: {g['scenario']}"
        for g in rows) or "(no grants)")


@grant.command("agreement")
@click.argument("grant_id", type=int)
@click.option("--accept", is_flag=True, help="accept it (the merchant): jobs may then start")
@token_option
@json_option
def grant_agreement(grant_id: int, accept: bool, token: str | None, as_json: bool) -> None:
    """Show a grant's operation agreement (格式协议), or accept it."""
    from actions import applications

    ctx = acting(token)
    data = (applications.accept_agreement(ctx, grant_id) if accept
            else applications.agreement(ctx, grant_id))
    emit(data, as_json, lambda d: d["text"] + (
        f"\nSHA-256 {d['sha256']}; " + (f"accepted {d['accepted_at']}" if d["accepted_at"]
                                        else "not accepted yet: `tds grant agreement "
                                             f"{grant_id} --accept`")))


@grant.command("revoke")
@click.argument("grant_id", type=int)
@click.option("--reason", required=True)
@token_option
@json_option
def grant_revoke(grant_id: int, reason: str, token: str | None, as_json: bool) -> None:
    """Revoke a grant: new jobs are refused and the workspace data is deleted."""
    from actions import applications

    data = applications.revoke(acting_or_operator(token), grant_id, reason)
    emit(data, as_json, lambda d: f"grant {d['id']} revoked; workspace data deleted")


COMMANDS = [apply, application, grant]


@application.command("to-check")
@token_option
@json_option
def application_to_check(token: str | None, as_json: bool) -> None:
    """Applications with a part your department has still to check (核查)."""
    from actions import applications

    emit(applications.to_check(acting(token)), as_json, lambda rows: "\n".join(
        f"{a['id']:>5}  due {a['deadline']}  {a['org']}: {a['scenario']}  ("
        + ", ".join(c["dataset"] for c in a["checks"] if c["verdict"] == "pending") + ")"
        for a in rows) or "(nothing to check)")


@application.command("check")
@click.argument("application_id", type=int)
@click.argument("dataset")
@click.option("--agree", "verdict", flag_value="agree", help="agree to the dataset's part")
@click.option("--refuse", "verdict", flag_value="refuse", help="refuse it (comment required)")
@_assessing
@click.option("--comment", default="", help="required to refuse, or with a point not rated pass")
@token_option
@json_option
def application_check(application_id: int, dataset: str, verdict: str | None,
                      reasonableness: str | None, compliance: str | None, security: str | None,
                      comment: str, token: str | None, as_json: bool) -> None:
    """The providing department's check of its dataset's part of an application (核查)."""
    from actions import applications

    if verdict is None:
        raise click.UsageError("give --agree or --refuse")
    data = applications.check(acting(token), application_id, dataset, verdict,
                              _rated(reasonableness, compliance, security), comment)
    emit(data, as_json, lambda d: f"application {d['id']}: {dataset} "
                                  + next(c["verdict"] for c in d["checks"]
                                         if c["dataset"] == dataset))


@application.command("attach")
@click.argument("application_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["letter", "commitment", "other"]), required=True,
              help="letter (申请函), commitment (承诺书) or other material")
@token_option
@json_option
def application_attach(application_id: int, path: Path, kind: str, token: str | None,
                       as_json: bool) -> None:
    """File a document with an application not yet decided."""
    from actions import applications

    with path.open("rb") as stream:
        data = applications.attach(acting(token), application_id, kind, path.name, stream)
    emit(data, as_json, lambda d: f"attachment {d['id']} ({d['kind']}, {d['size']} bytes, "
                                  f"sha256 {d['sha256'][:12]}…) filed with application "
                                  f"{application_id}")


@application.command("attachment")
@click.argument("application_id", type=int)
@click.argument("attachment_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="where to save it (default: its file name, here)")
@token_option
@json_option
def application_attachment(application_id: int, attachment_id: int, out: Path | None,
                           token: str | None, as_json: bool) -> None:
    """Save an attachment's file (checked against its SHA-256)."""
    import shutil

    from actions import applications

    source, described = applications.attachment_file(acting(token), application_id,
                                                     attachment_id)
    target = out or Path(described["filename"])
    if target.exists():
        raise click.UsageError(f"{target} exists: choose another --out")
    shutil.copyfile(source, target)
    emit({**described, "saved_to": str(target)}, as_json, lambda d: f"saved {d['saved_to']}")


@application.command("detach")
@click.argument("application_id", type=int)
@click.argument("attachment_id", type=int)
@token_option
@json_option
def application_detach(application_id: int, attachment_id: int, token: str | None,
                       as_json: bool) -> None:
    """Take back a document filed with an application not yet decided."""
    from actions import applications

    emit(applications.detach(acting(token), application_id, attachment_id), as_json,
         lambda d: f"attachment {attachment_id} taken back from application {d['id']}")
