"""What every command shares: the group that turns domain errors into one clear line, output
(--json or text), the options, and the home and actor, resolved once per invocation."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from policies import OPERATOR, Actor, DomainError

if TYPE_CHECKING:
    from actions import Context
    from policies import Policy
    from service.home import Home

EXIT_ERROR = 2

token_option = click.option("--token", help="API token (default: $TDS_TOKEN)")
json_option = click.option("--json", "as_json", is_flag=True, help="print JSON")


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
        finally:
            _close(ctx.meta.get("tds.home"))


def _close(h: Home | None) -> None:
    """Close the store's connections once the command is done (a command run in-process, as
    the tests do, leaves no pool of connections behind)."""
    store = h.__dict__.get("store") if h is not None else None
    if store is not None:
        store.engine.dispose()


def home() -> Home:
    """The home of this invocation (TDS_HOME), made once and shared by every helper."""
    meta = click.get_current_context().meta
    if "tds.home" not in meta:
        from service.home import Home

        meta["tds.home"] = Home.from_env()
    return meta["tds.home"]


def ready_home() -> Home:
    return home().require_initialized()


def policy_in_force() -> Policy:
    """The home's policy, or the default one for tools run outside a home."""
    from policies import load_policy

    h = home()
    return h.policy if h.initialized else load_policy()


def _token(token: str | None) -> str | None:
    return token or os.environ.get("TDS_TOKEN")


def acting(token: str | None) -> Context:
    """The context of the token's user (--token, else $TDS_TOKEN)."""
    from accounts.users import authenticate

    h = ready_home()
    with h.store.read() as session:
        actor = authenticate(session, _token(token), h.policy.api.token_days)
    return _context(h, actor)


def acting_or_operator(token: str | None) -> Context:
    """The token's user when a token is given, else the home's operator (an administrator)."""
    return acting(token) if _token(token) else operating()


def operating() -> Context:
    """The home's operator: whoever runs the command on the home's machine (an administrator)."""
    return _context(ready_home(), OPERATOR)


def _context(h: Home, actor: Actor) -> Context:
    # The CLI is its own dispatcher: deferred work (a preview) runs at once, and a submitted
    # job is run by `--wait` (or a worker), so there is no pool to wake.
    from actions import Context

    return Context.of(h, actor)


def emit(data: Any, as_json: bool, text: Callable[[Any], str] | None = None) -> None:
    """Print ``data`` as JSON, or as text (``text(data)``, else an indented outline)."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(text(data) if text else outline(data))


def fail(message: str, as_json: bool) -> None:
    """Report a failure that is not an error of the user's input, and exit 1."""
    if as_json:
        click.echo(json.dumps({"error": message}, ensure_ascii=False))
    else:
        click.echo(f"error: {message}", err=True)
    raise SystemExit(1)


def outline(data: Any, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(data, dict):
        lines = []
        for key, value in data.items():
            if isinstance(value, dict | list) and value:
                lines.append(f"{pad}{key}:")
                lines.append(outline(value, indent + 1))
            else:
                lines.append(f"{pad}{key}: {value}")
        return "\n".join(lines)
    if isinstance(data, list):
        return "\n".join(
            (f"{pad}-\n" + outline(item, indent + 1)) if isinstance(item, dict | list)
            else f"{pad}- {item}" for item in data
        )
    return f"{pad}{data}"


def table(columns: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in columns]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True))
                     for row in cells)
