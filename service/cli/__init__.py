"""The `tds` command line. Every command that reports has --json.

One module per command group; each command parses its options, calls one action of the
application layer (:mod:`actions`) and renders the result. Heavy modules load inside the
commands, so `tds --help` and the offline tools start quickly."""

from __future__ import annotations

import click

from service.cli import (
    applications,
    cases,
    catalog,
    commerce,
    consent,
    egress,
    jobs,
    ledger,
    notices,
    own_data,
    qualification,
    quality,
    setup,
    tools,
    users,
)
from service.cli.base import TdsGroup


@click.group(cls=TdsGroup)
@click.version_option(package_name="trusted-data-sandbox")
def main() -> None:
    """Trusted Data Sandbox: develop products from public data that never leaves."""


for _module in (setup, users, catalog, applications, jobs, egress, ledger, notices, quality,
                cases, commerce, consent, qualification, own_data, tools):
    for _command in _module.COMMANDS:
        main.add_command(_command)

__all__ = ["main"]
