"""tds own-data: the merchant's own tables in a grant's workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from service.cli.base import acting, emit, json_option, token_option


@click.group("own-data")
def own_data() -> None:
    """Your own tables in a grant's workspace: joined with the granted data, never leaving
    except through egress, deleted with the workspace."""


def own_text(o: dict[str, Any]) -> str:
    entities = ", ".join(f"{c} ({e})" for c, e in o["entities"].items()) or "none"
    return (f"own table {o['id']} {o['name']} ({o['status']}) in grant {o['grant_id']}: "
            f"{o['rows']} rows, {len(o['columns'])} columns, level {o['level']}, person key "
            f"{o['person_key'] or '(each row)'}; PII found: {entities}; simulated side "
            f"{o['preview_status']}")


@own_data.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--grant", "grant_id", required=True, type=int)
@click.option("--name", required=True, help="its table name in the workspace")
@click.option("--person-key", default="", help="the column naming each row's person (egress "
              "counts contributors by it; default: each row)")
@token_option
@json_option
def own_upload(file: Path, grant_id: int, name: str, person_key: str, token: str | None,
               as_json: bool) -> None:
    """Scan FILE (Parquet or CSV) and add it to the grant's workspace as table NAME."""
    from actions import own_data as own_actions

    emit(own_actions.upload(acting(token), grant_id, file, name, person_key or None), as_json,
         own_text)


@own_data.command("list")
@click.option("--grant", "grant_id", required=True, type=int)
@token_option
@json_option
def own_list(grant_id: int, token: str | None, as_json: bool) -> None:
    from actions import own_data as own_actions

    emit(own_actions.listing(acting(token), grant_id), as_json,
         lambda rows: "\n".join(own_text(o) for o in rows) or "(no own tables)")


@own_data.command("delete")
@click.argument("own_id", type=int)
@token_option
@json_option
def own_delete(own_id: int, token: str | None, as_json: bool) -> None:
    """Delete an own table now (the ledger keeps the record)."""
    from actions import own_data as own_actions

    emit(own_actions.delete(acting(token), own_id), as_json, own_text)


COMMANDS = [own_data]
