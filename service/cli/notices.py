"""tds todo and tds notices: what waits for you, and events on your work."""

from __future__ import annotations

from typing import Any

import click

from service.cli.base import acting, emit, json_option, token_option

WORDS = {
    "applications_to_review": "applications to review", "egress_to_review": "egress to review",
    "applications_to_amend": "applications to amend", "egress_to_answer": "egress to answer",
    "grants_ending": "grants ending", "open_alerts": "open alerts", "escalated": "escalated",
    "classifications_to_confirm": "classifications to confirm",
    "previews_failed": "previews failed",
}


def _todo_text(rows: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{t['count']:>5}  {WORDS.get(t['kind'], t['kind'])}"
        + (f"  ({t['near']} due by {t['due']})" if t["near"] else
           f"  (next due {t['due']})" if t["due"] else "") for t in rows) or "(nothing to do)"


@click.command("todo")
@token_option
@json_option
def todo(token: str | None, as_json: bool) -> None:
    """What waits for you, by kind, with what is due soon."""
    from actions import notices

    emit(notices.todos(acting(token)), as_json, _todo_text)


@click.command("notices")
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--read", "read", is_flag=True, help="then mark them all read")
@token_option
@json_option
def notices_command(limit: int, read: bool, token: str | None, as_json: bool) -> None:
    """Events on your work, newest first (kinds and ids, never data)."""
    from actions import notices

    ctx = acting(token)
    rows = notices.notices(ctx, limit)
    if read:
        notices.read_all(ctx)
    emit(rows, as_json, lambda found: "\n".join(
        f"{'*' if n['unread'] else ' '} {n['time'][:16]}  {n['action']:28s} {n['subject']}"
        for n in found) or "(no notices)")


COMMANDS = (todo, notices_command)
