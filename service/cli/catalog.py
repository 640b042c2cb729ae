"""tds dataset: register, classify, list, show and preview catalog datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from service.cli.base import acting, emit, json_option, token_option
from service.cli.params import NAMES, PAIR

FREQUENCY = click.Choice(["realtime", "daily", "weekly", "monthly", "quarterly", "yearly",
                          "irregular"])

LEVEL = click.Choice(["L1", "L2", "L3", "L4"])


class EntityChoice(click.ParamType):
    """COL=ENTITY, ENTITY 'none' for no identifier."""

    name = "COL=ENTITY"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, str | None]:
        if isinstance(value, tuple):
            return value
        column, sep, entity = str(value).partition("=")
        if not sep or not column or not entity:
            self.fail(f"{value!r}: use COLUMN=ENTITY or COLUMN=none", param, ctx)
        return column, None if entity.lower() == "none" else entity.upper()


def _say_progress(message: str) -> None:
    click.echo(f"  preview: {message}", err=True)


@click.group()
def dataset() -> None:
    """The catalog of data resources."""


@dataset.command("register")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--name", required=True)
@click.option("--title", required=True)
@click.option("--domain", required=True)
@click.option("--level", required=True, type=LEVEL)
@click.option("--attribute", required=True, type=click.Choice(["open", "conditional", "restricted"]))
@click.option("--description", default="")
@click.option("--department", default="", help="the providing department (数源部门)")
@click.option("--frequency", default="irregular", show_default=True, type=FREQUENCY,
              help="how often the department updates it")
@click.option("--field", "fields", multiple=True, type=PAIR, metavar="COLUMN=NAME",
              help="a column's Chinese field name (字段中文名); repeatable")
@click.option("--no-preview", is_flag=True, help="do not build the simulated preview now")
@token_option
@json_option
def dataset_register(file: Path, name: str, title: str, domain: str, level: str, attribute: str,
                     description: str, department: str, frequency: str,
                     fields: tuple[tuple[str, str], ...], no_preview: bool, token: str | None,
                     as_json: bool) -> None:
    """Register a Parquet or CSV file (UTF-8 or GB18030) as a dataset version, then build its
    simulated preview."""
    from actions import catalog
    from catalog.datasets import Registration

    data = catalog.register(acting(token), file,
                            Registration(name, title, domain, level, attribute, description,
                                         department, frequency, dict(fields)),
                            preview=not no_preview,
                            progress=None if as_json else _say_progress)
    emit(data, as_json, lambda d: (
        f"registered {d['name']} v{d['version']} as {d['registration_no']}: {d['rows']} rows, "
        f"{d['columns']} columns; level {d['level']} (suggested {d['suggested_level']})\n"
        + classification_text(d) + "\nconfirm or override with: tds dataset classify NAME"))


@dataset.command("classify")
@click.argument("name")
@click.option("--entity", "entities", multiple=True, type=EntityChoice(),
              help="override a column's entity (ENTITY 'none': no identifier); repeatable")
@click.option("--qi", type=NAMES, help="the quasi-identifier columns, comma-separated "
              "(replaces the list)")
@click.option("--confidential", type=NAMES, help="columns holding trade secrets, comma-separated")
@click.option("--level", type=LEVEL, help="confirm or change")
@click.option("--person-key", metavar="COL|none",
              help="the column naming each contributor (egress counts a cell's distinct values "
                   "of it); none: each row is one contributor")
@click.option("--field", "fields", multiple=True, type=PAIR, metavar="COLUMN=NAME",
              help="a column's Chinese field name (empty: remove it); repeatable")
@token_option
@json_option
def dataset_classify(name: str, entities: tuple[tuple[str, str | None], ...],
                     qi: list[str] | None, confidential: list[str] | None, level: str | None,
                     person_key: str | None, fields: tuple[tuple[str, str], ...],
                     token: str | None, as_json: bool) -> None:
    """Confirm the scan's column classification of the latest version, with overrides."""
    from actions import catalog

    data = catalog.classify(acting(token), name, catalog.Classification(
        dict(entities), qi, confidential, level,
        None if person_key is None else "" if person_key.lower() == "none" else person_key,
        dict(fields) or None))
    emit(data, as_json, classification_text)


def classification_text(d: dict[str, Any]) -> str:
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
@click.option("--search", "words", help="words every dataset found holds (title, description, "
              "department, column or field names), best matches first")
@token_option
@json_option
def dataset_list(domain: str | None, level: str | None, attribute: str | None,
                 words: str | None, token: str | None, as_json: bool) -> None:
    from actions import catalog

    data = catalog.search(acting(token), domain, level, attribute, words)
    emit(data, as_json, lambda rows: "\n".join(
        f"{d['registration_no']}  {d['name']:24s} {d['level']} {d['attribute']:11s} "
        f"{d['rows']:>9} rows  {d['title']}" for d in rows) or "(no datasets)")


@dataset.command("preview")
@click.argument("name")
@click.option("--rows", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--build", is_flag=True, help="(re)build the preview now (provider or admin)")
@token_option
@json_option
def dataset_preview(name: str, rows: int, build: bool, token: str | None, as_json: bool) -> None:
    """The simulated preview of a dataset's latest version: rows that look like the data and
    hold none of its values, with the quality and leak report."""
    from actions import catalog

    ctx = acting(token)
    if build:
        catalog.build_preview(ctx, name, progress=None if as_json else _say_progress)
    emit(catalog.preview(ctx, name, rows), as_json, _preview_text)


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
    from actions import catalog

    emit(catalog.show(acting(token), name), as_json,
         lambda d: f"{d['registration_no']}  {d['title']}\n" + classification_text(d))


COMMANDS = [dataset]
