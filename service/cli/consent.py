"""tds consent: datasets used with their subjects' consent, and the consent records
(PIPL Art. 13-16; Measures Art. 25)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from service.cli.base import acting, emit, json_option, token_option

STATUSES = click.Choice(["active", "future", "expired", "withdrawn", "superseded"])


def _summary(d: dict[str, Any]) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in d["counts"].items())
    return (f"{d['dataset']}: " + ("used with consent" if d["required"] else "not used with "
                                   "consent")
            + f" (person key {d['person_key'] or 'none'}); consents: {counts}")


@click.group()
def consent() -> None:
    """Consent records: real jobs see only the rows of persons whose consent is in force."""


@consent.command("require")
@click.argument("dataset")
@click.option("--on/--off", "required", default=True,
              help="use the dataset with consent (default), or stop")
@token_option
@json_option
def consent_require(dataset: str, required: bool, token: str | None, as_json: bool) -> None:
    """Use a dataset with its subjects' consent, from the next job on (needs a person key)."""
    from actions import consent as actions

    emit(actions.require(acting(token), dataset, required), as_json, _summary)


@consent.command("record")
@click.argument("dataset")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@token_option
@json_option
def consent_record(dataset: str, file: Path, token: str | None, as_json: bool) -> None:
    """File the consents of a CSV or Parquet FILE with the columns subject (the person key's
    value), columns (the scope, space-separated; empty: all), given_on, expires_on
    (YYYY-MM-DD) and reference (the consent form's number)."""
    from actions import consent as actions

    emit(actions.record_file(acting(token), dataset, file), as_json,
         lambda d: f"{d['recorded']} consent(s) filed for {d['dataset']}"
                   + (f", {d['superseded']} earlier one(s) replaced" if d["superseded"] else ""))


@consent.command("withdraw")
@click.argument("dataset")
@click.option("--subject", "subjects", multiple=True,
              help="a person key value (repeatable); see also --subjects-stdin")
@click.option("--subjects-stdin", is_flag=True, help="read person key values, one per line")
@click.option("--id", "ids", type=int, multiple=True, help="a consent record id (repeatable)")
@token_option
@json_option
def consent_withdraw(dataset: str, subjects: tuple[str, ...], subjects_stdin: bool,
                     ids: tuple[int, ...], token: str | None, as_json: bool) -> None:
    """End consents; from the next job on, those persons' rows are out of every grant's view."""
    from actions import consent as actions

    values = list(subjects)
    if subjects_stdin:
        values += [line.strip() for line in sys.stdin if line.strip()]
    emit(actions.withdraw(acting(token), dataset, values, list(ids)), as_json,
         lambda d: f"{d['withdrawn']} consent(s) of {d['dataset']} withdrawn: "
                   + ", ".join(str(i) for i in d["ids"]))


@consent.command("show")
@click.argument("dataset")
@token_option
@json_option
def consent_show(dataset: str, token: str | None, as_json: bool) -> None:
    """Whether a dataset is used with consent, and its consents per status."""
    from actions import consent as actions

    emit(actions.summary(acting(token), dataset), as_json, _summary)


@consent.command("list")
@click.argument("dataset")
@click.option("--status", type=STATUSES)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--before", type=int, help="records older than this id (the next page)")
@token_option
@json_option
def consent_list(dataset: str, status: str | None, limit: int, before: int | None,
                 token: str | None, as_json: bool) -> None:
    """Consent records, newest first (a person as 12 characters of a keyed digest)."""
    from actions import consent as actions

    emit(actions.search(acting(token), dataset, status, limit, before), as_json,
         lambda rows: "\n".join(
             f"{c['id']:>7}  {c['status']:10s} {c['subject']}  "
             f"{' '.join(c['columns']) if c['columns'] else '(all columns)'}  "
             f"{c['given_on']} .. {c['expires_on'] or ''}  {c['reference']}" for c in rows)
         or "(no consents)")


COMMANDS = [consent]
