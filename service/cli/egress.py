"""tds egress, product and release: requests to release outputs, reviews, signed bundles."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from service.cli.base import acting, emit, json_option, operating, token_option
from service.cli.params import PAIR

MITIGATIONS = click.Choice(["none", "suppress", "round", "suppress+round"])
Pairs = tuple[tuple[str, str], ...]


@click.group()
def egress() -> None:
    """Requests to release a job's output, their checks and reviews."""


@egress.command("request")
@click.option("--job", "job_id", required=True, type=int)
@click.option("--product", required=True, help="the product's name (one the application named)")
@click.option("--purpose", required=True)
@click.option("--source", "sources", multiple=True, required=True, help="a dataset the product uses")
@click.option("--abroad", is_flag=True, help="the product goes abroad (needs an extra approval)")
@click.option("--justify", "justify", multiple=True, type=PAIR, metavar="CHECK=TEXT",
              help="ask reviewers to override a failing check, and why")
@click.option("--mitigate", "mitigation", default="none", type=MITIGATIONS,
              help="suppress failing cells (and those margins would reveal) / round counts")
@click.option("--draft", is_flag=True, help="keep it as a draft; submit with `egress resubmit`")
@click.option("--context", "context_", default="", help="for reviewers: what the output is")
@click.option("--controls", default="", help="for reviewers: disclosure controls applied")
@token_option
@json_option
def egress_request(job_id: int, product: str, purpose: str, sources: tuple[str, ...],
                   abroad: bool, justify: Pairs, mitigation: str, draft: bool, context_: str,
                   controls: str, token: str | None, as_json: bool) -> None:
    """Request release of a job's output; automatic checks run at once."""
    from actions import egress as actions

    data = actions.request(acting(token), actions.Ask(job_id, product, purpose, list(sources),
                                                      abroad, dict(justify), mitigation, draft,
                                                      context_, controls))
    emit(data, as_json, egress_text)


def egress_text(d: dict[str, Any]) -> str:
    votes = f"{d['approvals']}/{d['required_approvals']} approvals" if d.get("approvals") \
        is not None else f"{d['votes_in']} vote(s) in, {d['required_approvals']} needed (blind)"
    lines = [f"egress request {d['id']} ({d['status']}, round {d['round']}): {d['product']}, "
             f"{votes}" + (f", deadline {d['deadline']}" if d.get("deadline") else "")
             + (" ESCALATED" if d.get("escalated") else "")]
    lines += [f"  [{c['verdict']:6s}] {c['name']}: {c['message']}" for c in d["checks"]]
    for check, text in (d.get("exceptions") or {}).items():
        lines.append(f"  exception asked for {check}: {text}")
    for r in d.get("reviews") or []:
        lines.append(f"  round {r['round']} {r['decision']}: {r['comment']}"
                     + (f" (overrides: {', '.join(r['overrides'])})" if r.get("overrides") else ""))
    return "\n".join(lines)


@egress.command("list")
@click.option("--status")
@token_option
@json_option
def egress_list(status: str | None, token: str | None, as_json: bool) -> None:
    """Requests you may see (reviewers: sorted by deadline)."""
    from actions import egress as actions

    emit(actions.search(acting(token), status), as_json,
         lambda rows: "\n".join(egress_text(r) for r in rows) or "(none)")


@egress.command("show")
@click.argument("request_id", type=int)
@token_option
@json_option
def egress_show(request_id: int, token: str | None, as_json: bool) -> None:
    from actions import egress as actions

    emit(actions.show(acting(token), request_id), as_json, egress_text)


@egress.command("resubmit")
@click.argument("request_id", type=int)
@click.option("--job", "job_id", type=int, help="a new output to release instead (votes reset)")
@click.option("--justify", "justify", multiple=True, type=PAIR, metavar="CHECK=TEXT")
@click.option("--mitigate", "mitigation", type=MITIGATIONS)
@click.option("--comment", default="", help="your answer to the reviewers' return")
@click.option("--context", "context_", default=None, help="a new context text for reviewers")
@click.option("--controls", default=None, help="a new controls text for reviewers")
@token_option
@json_option
def egress_resubmit(request_id: int, job_id: int | None, justify: Pairs,
                    mitigation: str | None, comment: str, context_: str | None,
                    controls: str | None, token: str | None, as_json: bool) -> None:
    """Submit a draft, answer a return, or update a request under review (checks run again;
    earlier votes no longer count)."""
    from actions import egress as actions

    data = actions.resubmit(acting(token), request_id, actions.Change(
        job_id, dict(justify) or None, mitigation, comment, context_, controls))
    emit(data, as_json, egress_text)


@egress.command("withdraw")
@click.argument("request_id", type=int)
@click.option("--reason", default="")
@token_option
@json_option
def egress_withdraw(request_id: int, reason: str, token: str | None, as_json: bool) -> None:
    """Withdraw a request (final)."""
    from actions import egress as actions

    emit(actions.withdraw(acting(token), request_id, reason), as_json, egress_text)


@egress.command("review")
@click.argument("request_id", type=int)
@click.option("--approve", "decision", flag_value="approve")
@click.option("--reject", "decision", flag_value="reject")
@click.option("--return", "decision", flag_value="return", help="send back for changes")
@click.option("--comment", required=True, help="public: the merchant reads it")
@click.option("--private-comment", default="", help="for reviewers and administrators only")
@click.option("--point", "points", multiple=True, type=PAIR, metavar="POINT=ANSWER[:COMMENT]",
              help="answer a review point: purpose_scope, sources, raw_exposure, "
                   "personal_information_trade_secrets, cross_border, other_risks; "
                   "ANSWER is yes, no or n/a")
@click.option("--override", "overrides", multiple=True, metavar="CHECK",
              help="override a failing check (each needs a --reason, in the same order)")
@click.option("--reason", "reasons", multiple=True)
@token_option
@json_option
def egress_review(request_id: int, decision: str | None, comment: str, private_comment: str,
                  points: Pairs, overrides: tuple[str, ...], reasons: tuple[str, ...],
                  token: str | None, as_json: bool) -> None:
    """Vote on an egress request; the last approval needed signs the release."""
    from actions import egress as actions

    if decision is None:
        raise click.UsageError("give one of --approve, --reject or --return")
    if len(overrides) != len(reasons):
        raise click.UsageError("give one --reason for each --override")
    checklist = {}
    for point, text in points:
        answer, _, note = text.partition(":")
        checklist[point] = {"answer": answer.strip(), "comment": note.strip()}
    data = actions.vote(acting(token), request_id, actions.Ballot(
        decision, comment, private_comment, checklist,
        dict(zip(overrides, reasons, strict=True))))
    emit(data, as_json, egress_text)


@egress.command("sweep")
@json_option
def egress_sweep(as_json: bool) -> None:
    """Escalate egress reviews past their deadline (never approves them)."""
    from actions import sweeps

    data = {"escalated": sweeps.overdue(operating())["escalated_egress"]}
    emit(data, as_json, lambda d: f"escalated: {d['escalated'] or 'none'}")


@click.group()
def product() -> None:
    """Registered data products (released)."""


@product.command("list")
@token_option
@json_option
def product_list(token: str | None, as_json: bool) -> None:
    """Released products with their registration numbers and source datasets'."""
    from actions import egress as actions

    emit(actions.products(acting(token)), as_json, lambda rows: "\n".join(
        f"{r['product_no']}  {r['product']}  ({r['org']}, {r['created_at']}) from "
        + ", ".join(f"{s['dataset']} {s['registration_no']} v{s['version']}" for s in r["sources"])
        for r in rows) or "(no products)")


@click.group()
def release() -> None:
    """Signed release bundles."""


@release.command("list")
@token_option
@json_option
def release_list(token: str | None, as_json: bool) -> None:
    from actions import egress as actions

    emit(actions.releases(acting(token)), as_json)


@release.command("download")
@click.argument("release_id", type=int)
@click.option("--format", "fmt", default="bundle", show_default=True,
              type=click.Choice(["bundle", "csv", "xlsx"]),
              help="the signed bundle (a directory), or its table as CSV or XLSX")
@click.option("--to", "target", type=click.Path(path_type=Path, file_okay=False), default=".",
              show_default=True, help="the directory to write into")
@token_option
@json_option
def release_download(release_id: int, fmt: str, target: Path, token: str | None,
                     as_json: bool) -> None:
    """Download a release of your organization (each download is logged)."""
    import shutil

    from actions import egress as actions

    produced = actions.download(acting(token), release_id, fmt)
    target.mkdir(parents=True, exist_ok=True)
    if fmt == "bundle":
        written = target / produced.name
        shutil.copytree(produced, written, dirs_exist_ok=True)
    else:
        written = target / produced.name
        shutil.move(produced, written)
        shutil.rmtree(produced.parent, ignore_errors=True)
    emit({"release_id": release_id, "format": fmt, "path": str(written)}, as_json,
         lambda d: f"wrote {d['path']}")


@release.command("verify")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--pubkey", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="the platform's public key to trust (else the bundle's own, reported)")
@json_option
def release_verify(directory: Path, pubkey: Path | None, as_json: bool) -> None:
    """Check a release bundle's signature and file hashes offline; exit 1 if anything is off."""
    from egress.bundle import verify_bundle

    data = verify_bundle(directory, pubkey.read_bytes() if pubkey else None)
    emit(data, as_json, lambda d: (
        f"VALID release {d.get('release_id')} signed by key {d.get('key_id')}"
        + ("; its release event is in the signed ledger (inclusion proof checked)"
           if d.get("logged") else "; no ledger proof in the bundle")
        + ("" if d.get("trusted_key") else " (the bundle's own key: compare its id with the "
                                          "platform's published key id)")
        if d["valid"] else "INVALID: " + "; ".join(d["problems"])))
    if not data["valid"]:
        sys.exit(1)


COMMANDS = [egress, product, release]
