"""tds quality: data-quality issues on dataset versions (Measures Art. 14)."""

from __future__ import annotations

from typing import Any

import click

from service.cli.base import acting, emit, json_option, token_option

KINDS = click.Choice(["missing_values", "wrong_values", "inconsistent", "outdated", "schema",
                      "other"])


def _line(i: dict[str, Any]) -> str:
    due = i["answer_due"] if i["status"] == "open" else i["fix_due"]
    return (f"{i['id']:>5}  {i['status']:12s} {i['dataset']} v{i['version']}  {i['kind']}"
            + (f"  due {due}" if i["status"] in ("open", "acknowledged") else "")
            + ("  OVERDUE" if i["overdue"] else ""))


@click.group()
def quality() -> None:
    """Data-quality issues: merchants report, providing departments answer and fix."""


@quality.command("report")
@click.argument("dataset")
@click.option("--kind", type=KINDS, required=True)
@click.option("--columns", default="", help="the columns concerned, comma-separated")
@click.option("--description", required=True, help="what is wrong, in words")
@click.option("--version", type=int, help="the version reported on (default: the latest)")
@token_option
@json_option
def quality_report(dataset: str, kind: str, columns: str, description: str,
                   version: int | None, token: str | None, as_json: bool) -> None:
    """Report a data-quality issue on a dataset version."""
    from actions import quality as actions

    chosen = [c.strip() for c in columns.split(",") if c.strip()]
    data = actions.report(acting(token), dataset, kind, chosen, description, version)
    emit(data, as_json, lambda d: f"quality issue {d['id']} reported on {d['dataset']} "
                                  f"v{d['version']}; answer due by {d['answer_due']}")


@quality.command("list")
@click.option("--status", type=click.Choice(["open", "acknowledged", "fixed", "rejected"]))
@click.option("--dataset")
@token_option
@json_option
def quality_list(status: str | None, dataset: str | None, token: str | None,
                 as_json: bool) -> None:
    from actions import quality as actions

    emit(actions.search(acting(token), status, dataset), as_json,
         lambda rows: "\n".join(_line(i) for i in rows) or "(no quality issues)")


@quality.command("show")
@click.argument("issue_id", type=int)
@token_option
@json_option
def quality_show(issue_id: int, token: str | None, as_json: bool) -> None:
    from actions import quality as actions

    emit(actions.show(acting(token), issue_id), as_json)


@quality.command("answer")
@click.argument("issue_id", type=int)
@click.option("--acknowledge", "decision", flag_value="acknowledge",
              help="agree: a new version will fix it")
@click.option("--reject", "decision", flag_value="reject", help="not an issue: say why")
@click.option("--reply", required=True, help="the answer to the merchant")
@token_option
@json_option
def quality_answer(issue_id: int, decision: str | None, reply: str, token: str | None,
                   as_json: bool) -> None:
    """The providing department's answer to an issue."""
    from actions import quality as actions

    if decision is None:
        raise click.UsageError("give --acknowledge or --reject")
    emit(actions.answer(acting(token), issue_id, decision, reply), as_json,
         lambda d: f"quality issue {d['id']} {d['status']}")


@quality.command("fix")
@click.argument("issue_id", type=int)
@click.option("--version", type=int, required=True,
              help="the dataset version that fixes it (register it first)")
@click.option("--reply", default="", help="what was corrected")
@token_option
@json_option
def quality_fix(issue_id: int, version: int, reply: str, token: str | None,
                as_json: bool) -> None:
    """Close an issue with the new dataset version that fixes it."""
    from actions import quality as actions

    emit(actions.fix(acting(token), issue_id, version, reply), as_json,
         lambda d: f"quality issue {d['id']} fixed by version {d['fixed_version']}")


COMMANDS = [quality]
