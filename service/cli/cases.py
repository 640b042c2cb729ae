"""tds case: appeals, complaints and security incidents."""

from __future__ import annotations

from typing import Any

import click

from service.cli.base import acting, emit, json_option, token_option


def _line(c: dict[str, Any]) -> str:
    return (f"{c['id']:>5}  {c['kind']:9s} {c['status']:11s} resolve by {c['resolve_due']}  "
            f"{c['title']}" + ("  OVERDUE" if c["overdue"] else ""))


@click.group()
def case() -> None:
    """Appeals against rejections, complaints and security incidents."""


@case.command("open")
@click.option("--kind", type=click.Choice(["appeal", "complaint", "incident"]), required=True)
@click.option("--title", required=True)
@click.option("--description", required=True)
@click.option("--subject", default="", help="an appeal's rejected application: application:ID")
@click.option("--severity", type=click.Choice(["low", "medium", "high", "critical"]),
              help="an incident's severity")
@token_option
@json_option
def case_open(kind: str, title: str, description: str, subject: str, severity: str | None,
              token: str | None, as_json: bool) -> None:
    """Open an appeal, a complaint or a security incident report."""
    from actions import cases

    data = cases.open_case(acting(token), kind, title, description, subject, severity or "")
    emit(data, as_json, lambda d: f"case {d['id']} ({d['kind']}) opened; response due by "
                                  f"{d['respond_due']}, resolution by {d['resolve_due']}")


@case.command("list")
@click.option("--status", type=click.Choice(["open", "in_progress", "upheld", "dismissed",
                                             "resolved"]))
@token_option
@json_option
def case_list(status: str | None, token: str | None, as_json: bool) -> None:
    from actions import cases

    emit(cases.search(acting(token), status), as_json,
         lambda rows: "\n".join(_line(c) for c in rows) or "(no cases)")


@case.command("show")
@click.argument("case_id", type=int)
@token_option
@json_option
def case_show(case_id: int, token: str | None, as_json: bool) -> None:
    from actions import cases

    emit(cases.show(acting(token), case_id), as_json)


@case.command("respond")
@click.argument("case_id", type=int)
@click.option("--response", required=True, help="the platform's first response")
@token_option
@json_option
def case_respond(case_id: int, response: str, token: str | None, as_json: bool) -> None:
    """Respond to a case: it is being handled (administrators)."""
    from actions import cases

    emit(cases.respond(acting(token), case_id, response), as_json,
         lambda d: f"case {d['id']} {d['status']}")


@case.command("resolve")
@click.argument("case_id", type=int)
@click.option("--uphold", "outcome", flag_value="uphold",
              help="in the opener's favour (an appeal: the application is reviewed again)")
@click.option("--dismiss", "outcome", flag_value="dismiss", help="against it, with reasons")
@click.option("--resolve", "outcome", flag_value="resolve", help="an incident handled")
@click.option("--resolution", required=True)
@token_option
@json_option
def case_resolve(case_id: int, outcome: str | None, resolution: str, token: str | None,
                 as_json: bool) -> None:
    """Close a case (administrators)."""
    from actions import cases

    if outcome is None:
        raise click.UsageError("give --uphold, --dismiss or --resolve")
    emit(cases.resolve(acting(token), case_id, outcome, resolution), as_json,
         lambda d: f"case {d['id']} {d['status']}")


COMMANDS = [case]
