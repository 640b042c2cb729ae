"""The reference documentation is generated from the code and cannot drift from it."""

from __future__ import annotations

import click

from service.cli import main
from service.cli.docs import reference, target


def test_the_cli_reference_is_current():
    assert target().read_text(encoding="utf-8") == reference(), \
        "docs/cli.md is out of date: run `python -m service.cli.docs`"


def test_every_command_and_option_is_in_the_reference():
    text = target().read_text(encoding="utf-8")

    def walk(path: list[str], command: click.Command):
        yield path, command
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk([*path, name], sub)

    for path, command in walk(["tds"], main):
        if len(path) > 1:
            assert f"`{' '.join(path)}`" in text, path
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert f"`{opt}`" in text, (path, opt)


def test_the_readme_links_the_references():
    readme = (target().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "docs/cli.md" in readme and "docs/policy.md" in readme


def test_every_relative_link_of_the_documentation_resolves():
    import re

    root = target().parents[1]
    broken = []
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        for link in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if link.startswith(("http://", "https://", "#", "mailto:")):
                continue
            if not (page.parent / link.split("#")[0]).exists():
                broken.append(f"{page.relative_to(root)}: {link}")
    assert not broken, broken
