"""tds qualification: operating organizations apply, are reviewed and publicly noticed
(Measures Art. 20-21)."""

from __future__ import annotations

from typing import Any

import click

from service.cli.base import acting, emit, json_option, token_option

STATES = click.Choice(["submitted", "in_notice", "qualified", "rejected"])


def _line(q: dict[str, Any]) -> str:
    notice = f"  notice until {q['notice_until']}" if q["status"] == "in_notice" else ""
    return f"{q['id']:>5}  {q['status']:10s} {q['org']}  {q['credit_code']}{notice}"


@click.group()
def qualification() -> None:
    """Qualification of operating organizations: apply, review, public notice."""


@qualification.command("apply")
@click.option("--credit-code", required=True, help="unified social credit code (GB 32100)")
@click.option("--legal-representative", required=True)
@click.option("--security-officer", required=True, help="the data security officer")
@click.option("--good-standing", required=True,
              help="how the organization is in good standing (Art. 21(1))")
@click.option("--capability", required=True, help="offices, team, technical capacity (21(2))")
@click.option("--security-management", required=True,
              help="security department and rules (21(3))")
@click.option("--data-management", required=True,
              help="data management and security capability (21(4))")
@token_option
@json_option
def qualification_apply(credit_code: str, legal_representative: str, security_officer: str,
                        good_standing: str, capability: str, security_management: str,
                        data_management: str, token: str | None, as_json: bool) -> None:
    """Apply for your organization's qualification as an operator."""
    from actions import qualification as actions

    data = actions.apply(acting(token), credit_code, legal_representative, security_officer,
                         {"good_standing": good_standing, "capability": capability,
                          "security_management": security_management,
                          "data_management": data_management})
    emit(data, as_json, lambda d: f"qualification {d['id']} of {d['org']} submitted for review")


@qualification.command("list")
@click.option("--status", type=STATES)
@token_option
@json_option
def qualification_list(status: str | None, token: str | None, as_json: bool) -> None:
    from actions import qualification as actions

    emit(actions.search(acting(token), status), as_json,
         lambda rows: "\n".join(_line(q) for q in rows) or "(no qualifications)")


@qualification.command("show")
@click.argument("qualification_id", type=int)
@token_option
@json_option
def qualification_show(qualification_id: int, token: str | None, as_json: bool) -> None:
    from actions import qualification as actions

    emit(actions.show(acting(token), qualification_id), as_json)


@qualification.command("review")
@click.argument("qualification_id", type=int)
@click.option("--approve/--reject", "approve", required=True,
              help="approve into public notice, or reject (also during the notice)")
@click.option("--comment", default="", help="required to reject")
@token_option
@json_option
def qualification_review(qualification_id: int, approve: bool, comment: str,
                         token: str | None, as_json: bool) -> None:
    """Review a qualification (administrators)."""
    from actions import qualification as actions

    emit(actions.review(acting(token), qualification_id, approve, comment), as_json, _line)


COMMANDS = [qualification]
