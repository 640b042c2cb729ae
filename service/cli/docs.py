"""docs/cli.md, generated from the commands themselves: `python -m service.cli.docs` rewrites
it, and a test fails when it and the commands differ."""

from __future__ import annotations

import sys
from pathlib import Path

import click

HEADER = """# `tds` command reference

Generated from the commands by `python -m service.cli.docs`; do not edit by hand (a test
compares this file with the commands). Every command that reports has `--json`.
"""


def _option(param: click.Parameter) -> str:
    names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
    kind = param.type.name if not getattr(param, "is_flag", False) else "flag"
    if isinstance(param.type, click.Choice):
        kind = "|".join(str(c) for c in param.type.choices)
    meta = f" ({kind})" if kind and kind != "flag" else ""
    extras = []
    if param.required:
        extras.append("required")
    if getattr(param, "multiple", False):
        extras.append("repeatable")
    if getattr(param, "show_default", False) and param.default not in (None, False, ()):
        extras.append(f"default {param.default}")
    help_text = " ".join((getattr(param, "help", None) or "").split())
    tail = f" [{', '.join(extras)}]" if extras else ""
    return f"- {names}{meta}{tail}" + (f": {help_text}" if help_text else "")


def _command(path: list[str], command: click.Command) -> list[str]:
    ctx = click.Context(command, info_name=" ".join(path))
    lines = [f"{'#' * min(len(path), 4)} `{' '.join(path)}`", ""]
    if command.help:
        lines += [" ".join(command.help.split()), ""]
    usage = command.collect_usage_pieces(ctx)
    lines += ["```", " ".join([*path, *usage]), "```", ""]
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    options = [p for p in command.params if isinstance(p, click.Option)]
    if arguments:
        lines.append("Arguments: " + ", ".join(f"`{p.human_readable_name}`" for p in arguments))
        lines.append("")
    if options:
        lines += [_option(p) for p in options] + [""]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            lines += _command([*path, name], command.commands[name])
    return lines


def reference() -> str:
    from service.cli import main

    lines = [HEADER, " ".join((main.help or "").split()), "",
             *[_option(p) for p in main.params if isinstance(p, click.Option)], ""]
    for name in sorted(main.commands):
        lines += _command(["tds", name], main.commands[name])
    return "\n".join(lines).rstrip() + "\n"


def target() -> Path:
    return Path(__file__).resolve().parents[2] / "docs" / "cli.md"


if __name__ == "__main__":
    path = target()
    path.parent.mkdir(exist_ok=True)
    path.write_text(reference(), encoding="utf-8")
    sys.stdout.write(f"wrote {path}\n")
