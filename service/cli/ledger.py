"""tds ledger, lineage, report and keys: the tamper-evident ledger and what is built from it
(operator of the home)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from service.cli.base import emit, json_option, operating, ready_home


@click.group()
def ledger() -> None:
    """The tamper-evident ledger (operator of the home)."""


@ledger.command("verify")
@json_option
def ledger_verify(as_json: bool) -> None:
    """Recompute the chain and check it against the signed checkpoints; exit 1 if invalid."""
    from actions import ledger as actions

    data = actions.verify(operating())
    emit(data, as_json, lambda d: (
        f"{'VALID' if d['valid'] else 'INVALID'}: {d['events']} events, "
        f"{d['checkpoints']} checkpoints" + "".join(f"\n  problem: {p}" for p in d["problems"])
        + "".join(f"\n  warning: {w}" for w in d["warnings"])))
    if not data["valid"]:
        sys.exit(1)


@ledger.command("log")
@click.option("--actor")
@click.option("--action")
@click.option("--subject")
@click.option("--since", help="from this time (ISO date or date-time, UTC)")
@click.option("--until", help="before this time (ISO date or date-time, UTC)")
@click.option("--before", "before_seq", type=int, help="page: events before this sequence number")
@click.option("--limit", type=int, default=50, show_default=True)
@json_option
def ledger_log(actor: str | None, action: str | None, subject: str | None, since: str | None,
               until: str | None, before_seq: int | None, limit: int, as_json: bool) -> None:
    """Search ledger events, newest first, each with its verification status; page with
    --before (the `next_before` of the previous page)."""
    from actions import ledger as actions

    data = actions.events(operating(), actor=actor, action=action, subject=subject, since=since,
                          until=until, before_seq=before_seq, limit=limit)
    emit(data, as_json, lambda d: "\n".join(
        f"{e['seq']:>7}  {e['time']}  {e['status']:13s} {e['actor']:12s} {e['action']:28s} "
        f"{e['subject']}" for e in d["events"]) + (
        f"\n(more: --before {d['next_before']})" if d["next_before"] else "") or "(no events)")


@ledger.command("archive")
@click.option("--before", required=True, metavar="YYYY-MM",
              help="seal every whole month before this one")
@json_option
def ledger_archive(before: str, as_json: bool) -> None:
    """Seal whole months into Parquet files with a signed manifest (TDS_HOME/ledger/archive)."""
    from actions import ledger as actions

    emit(actions.archive(operating(), before), as_json, lambda rows: "\n".join(
        f"sealed {m['month']}: events {m['first_seq']}-{m['last_seq']} ({m['events']}), "
        f"{m['path']}, root {m['root'][:16]}..." for m in rows) or "(no month left to seal)")


@ledger.command("purge")
@click.option("--before", required=True, metavar="YYYY-MM",
              help="purge archived months before this one whose retention has passed")
@json_option
def ledger_purge(before: str, as_json: bool) -> None:
    """Delete the rows of archived events older than the policy's retention (leaves stay)."""
    from actions import ledger as actions

    emit(actions.purge(operating(), before), as_json,
         lambda d: f"purged {d['events']} events of {', '.join(d['months'])}")


@ledger.command("proof")
@click.argument("seq", type=int)
@json_option
def ledger_proof(seq: int, as_json: bool) -> None:
    """Inclusion proof of event SEQ against the latest signed checkpoint."""
    from actions import ledger as actions

    data = actions.proof(operating(), seq, check=True)
    problems = data.pop("problems")
    emit(data, as_json, lambda d: (
        f"event {seq} ({d['event']['action']} {d['event']['subject']}) is leaf {d['leaf_index']} "
        f"of the tree of {d['tree_size']} events with root {d['checkpoint']['root']}\n"
        f"signed by key {d['checkpoint']['key_id']} at {d['checkpoint']['time']}; "
        f"{len(d['proof'])} proof hashes: "
        + ("verified" if not problems else "NOT VERIFIED: " + "; ".join(problems))))


@ledger.command("consistency")
@click.argument("old", type=int)
@click.argument("new", type=int, required=False)
@json_option
def ledger_consistency(old: int, new: int | None, as_json: bool) -> None:
    """Consistency proof between the checkpoints at sizes OLD and NEW (default: the latest)."""
    from actions import ledger as actions

    data = actions.consistency(operating(), old, new)
    emit(data, as_json, lambda d: (
        f"{'CONSISTENT' if d['valid'] else 'INCONSISTENT'}: the tree of {d['old']['size']} events "
        f"(root {d['old']['root'][:16]}...) is {'a' if d['valid'] else 'NOT a'} prefix of the "
        f"tree of {d['new']['size']} (root {d['new']['root'][:16]}...); "
        f"{len(d['proof'])} proof hashes"))
    if not data["valid"]:
        sys.exit(1)


@click.group()
def lineage() -> None:
    """Where data came from and went (built from the ledger)."""


@lineage.command("show")
@click.argument("node")
@click.option("--up", "direction", flag_value="up", help="only where it came from")
@click.option("--down", "direction", flag_value="down", help="only where it went")
@click.option("--dot", "as_dot", is_flag=True, help="print Graphviz DOT")
@click.option("--svg", type=click.Path(path_type=Path, dir_okay=False),
              help="write the picture as SVG to this file")
@json_option
def lineage_show(node: str, direction: str | None, as_dot: bool, svg: Path | None,
                 as_json: bool) -> None:
    """Lineage of NODE: dataset:NAME, dataset_version:ID, job:ID, output:ID, egress:ID or
    release:ID, up- and downstream unless --up or --down."""
    from actions import ledger as actions
    from reporting import graph

    part = actions.lineage(operating(), node, direction or "both")
    if svg is not None:
        svg.write_bytes(graph.to_svg(part))
    if as_dot:
        click.echo(graph.to_dot(part), nl=False)
        return
    emit(part.as_dict(), as_json, lambda d: "\n".join(
        [f"{n['id']:22s} {n.get('label', '')}" for n in d["nodes"]]
        + [f"  {e['from']} -> {e['to']}" for e in d["edges"]]
        + ([f"picture: {svg}"] if svg else [])))


@lineage.command("export")
@click.option("--openlineage", "target", required=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="write OpenLineage events (JSON lines) to this file")
def lineage_export(target: Path) -> None:
    """Export dataset versions and jobs as OpenLineage DatasetEvents and RunEvents."""
    from reporting.openlineage import export

    h = ready_home()
    if target.exists():
        raise click.BadParameter(f"{target} exists; choose a new file", param_hint="--openlineage")
    with h.store.read() as session:
        count = export(session, h.origin, target)
    click.echo(f"wrote {count} OpenLineage events to {target}")


@click.group()
def report() -> None:
    """Reports the Measures require, built from the ledger."""


@report.command("disclosure")
@click.option("--year", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["md", "json", "html"]), default="md",
              show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="write to a file")
def report_disclosure(year: int, fmt: str, out: Path | None) -> None:
    """The annual disclosure report: grants, products, use per dataset, review timeliness,
    security events and the monitoring indicators."""
    from actions import ledger as actions

    text = actions.report(operating(), year, fmt)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)


@report.command("usage")
@click.option("--since", required=True, help="first day (ISO date)")
@click.option("--until", required=True, help="day after the last (ISO date)")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json",
              show_default=True)
@click.option("--part", type=click.Choice(["organizations", "grants", "datasets"]),
              default="grants", show_default=True, help="what the CSV lists")
def report_usage(since: str, until: str, fmt: str, part: str) -> None:
    """Usage metered from the ledger: per organization and grant, jobs, job seconds, rows
    produced, releases and downloads; per dataset, jobs, releases and downloads."""
    import json

    from actions import ledger as actions
    from reporting.metering import as_csv

    data = actions.usage(operating(), since, until)
    click.echo(as_csv(data, part) if fmt == "csv" else
               json.dumps(data, ensure_ascii=False, indent=2), nl=fmt == "json")


@report.command("annual")
@click.option("--year", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["md", "json", "html", "csv", "xlsx"]),
              default="md", show_default=True)
@click.option("--table", type=click.Choice(["sales", "finance", "fee_changes", "distribution",
                                            "data_use"]), default="sales", show_default=True,
              help="what the CSV lists")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="write to a file (needed for xlsx)")
def report_annual(year: int, fmt: str, table: str, out: Path | None) -> None:
    """The annual operation report (Art. 37): operation, data use, sales, costs and income,
    changes of charging standards, the distribution of income, security."""
    from actions import commerce
    from reporting import annual

    data = commerce.annual_report(operating(), year)
    if fmt == "xlsx":
        if out is None:
            raise click.UsageError("an XLSX workbook is written to a file: give --out")
        out.write_bytes(annual.as_xlsx(data))
        click.echo(f"wrote {out}")
        return
    text = annual.as_csv(data, table) if fmt == "csv" else annual.render(data, fmt)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)


@click.group()
def keys() -> None:
    """The platform's signing key and the data keys of encryption at rest (operator of the
    home)."""


@keys.command("rotate")
@json_option
def keys_rotate(as_json: bool) -> None:
    """Replace the platform key; the rotation is logged and signed by the old key."""
    from actions import ledger as actions

    emit(actions.rotate_key(operating()), as_json, lambda d: (
        f"rotated: key {d['old_key_id']} signed the rotation to {d['new_key_id']} "
        f"(event {d['seq']}); checkpoints from size {d['seq']} on use the new key"))


@keys.command("data")
@json_option
def keys_data(as_json: bool) -> None:
    """List the data keys (datasets, grants, egress records): fingerprint, master key, when
    made and when destroyed. The keys themselves are never shown."""
    from actions import ledger as actions

    def text(d: dict) -> str:
        lines = [f"master key {d['master_kid']}: {d['live']} live data key(s), "
                 f"{d['destroyed']} destroyed"]
        for k in d["keys"]:
            life = f"destroyed {k['destroyed_at']} ({k['destroyed_reason']})" \
                if k["destroyed_at"] else f"wrapped by {k['master_kid']}"
            lines.append(f"  key {k['id']:>4}  {k['scope']:<7} {k['scope_id']:>6}  "
                         f"{k['fingerprint']}  made {k['created_at']}  {life}")
        return "\n".join(lines)

    emit(actions.data_keys(operating()), as_json, text)


@keys.command("rewrap")
@click.option("--key-file", required=True, type=click.Path(dir_okay=False),
              help="the new master key's file (KMS-style JSON); made if it does not exist")
@json_option
def keys_rewrap(key_file: str, as_json: bool) -> None:
    """Rotate the master key: wrap every live data key by the key in KEY_FILE (one logged
    event each, in one transaction). Then run the platform with TDS_KEY_FILE=KEY_FILE."""
    from actions import ledger as actions

    emit(actions.rewrap_keys(operating(), key_file), as_json, lambda d: (
        f"{d['rewrapped']} data key(s) now wrapped by master key {d['master_kid']} "
        f"({'new ' if d['created'] else ''}file {d['key_file']}); set TDS_KEY_FILE to it"))


COMMANDS = [ledger, lineage, report, keys]
