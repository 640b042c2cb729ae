"""Ledger actions (administrators): verify, search, proofs, lineage, archive, purge, keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

from actions.context import Context
from catalog.models import utcnow
from lineage import LedgerError, LedgerEvent, proofs, verify_ledger
from lineage.archive import archive as seal_months
from lineage.archive import purge as purge_months
from policies import DomainError
from policies.permissions import Action, permit
from reporting import audit, graph, indicators, metering
from reporting.report import disclosure, render


def verify(ctx: Context) -> dict[str, Any]:
    """Recompute the chain and check it against the signed checkpoints."""
    permit(ctx.actor, Action.LEDGER_AUDIT)
    with ctx.read() as session:
        return verify_ledger(session, ctx.keys.genesis_public_key, ctx.keys.witness_path,
                             ctx.keys.origin).as_dict()


def events(ctx: Context, actor: str | None = None, action: str | None = None,
           subject: str | None = None, since: str | None = None, until: str | None = None,
           before_seq: int | None = None, limit: int = 50) -> dict[str, Any]:
    """A page of events, newest first, each with its verification status."""
    permit(ctx.actor, Action.LEDGER_AUDIT)
    with ctx.read() as session:
        return audit.search(session, actor=actor, action=action, subject=subject, since=since,
                            until=until, before_seq=before_seq, limit=limit)


def proof(ctx: Context, seq: int, check: bool = False) -> dict[str, Any]:
    """Inclusion proof of one event against the latest signed checkpoint; with ``check``, the
    problems found verifying it here against the platform's keys (none when it verifies)."""
    permit(ctx.actor, Action.LEDGER_AUDIT)
    with ctx.read() as session:
        document = proofs.inclusion(session, seq, archive_dir=ctx.keys.ledger_archives())
    if not check:
        return document
    problems = proofs.verify_inclusion(document, [ctx.keys.public_key,
                                                  ctx.keys.genesis_public_key])
    return document | {"problems": problems}


def consistency(ctx: Context, old: int, new: int | None = None) -> dict[str, Any]:
    permit(ctx.actor, Action.LEDGER_AUDIT)
    with ctx.read() as session:
        return proofs.consistency(session, old, new)


def lineage(ctx: Context, node: str, direction: str = "both") -> graph.Graph:
    """Where a node's data came from and went, as a graph (JSON, DOT or SVG at the shell)."""
    permit(ctx.actor, Action.LEDGER_AUDIT)
    with ctx.read() as session:
        return graph.neighbourhood(graph.build(session), node, direction)


def report(ctx: Context, year: int, fmt: str) -> str:
    """The annual disclosure report, rendered as md, json or html."""
    return render(disclosure_report(ctx, year), fmt)


def disclosure_report(ctx: Context, year: int) -> dict[str, Any]:
    """The annual disclosure report: grants, products, use per dataset, review timeliness,
    security events and the monitoring indicators."""
    permit(ctx.actor, Action.LEDGER_AUDIT)
    with ctx.read() as session:
        return disclosure(session, year)


def usage(ctx: Context, since: str, until: str) -> dict[str, Any]:
    """Usage per organization, grant and dataset between two ISO dates, from the ledger."""
    permit(ctx.actor, Action.LEDGER_AUDIT)
    with ctx.read() as session:
        return metering.usage(session, since, until)


def monitoring(ctx: Context, months: int, today: dt.date) -> dict[str, Any]:
    """The implementation guide's indicators per month for the last ``months`` months."""
    permit(ctx.actor, Action.LEDGER_AUDIT)
    with ctx.read() as session:
        return indicators.monthly(session, months, today)


def event(ctx: Context, seq: int) -> dict[str, Any] | None:
    """One event with its inclusion proof (``proof`` None and ``proof_error`` why, when the
    proof cannot be made yet); None when no such event is in the store."""
    permit(ctx.actor, Action.LEDGER_AUDIT)
    with ctx.read() as session:
        found = session.get(LedgerEvent, seq)
        if found is None:
            return None
        data = found.as_dict()
        try:
            data["proof"] = proofs.inclusion(session, seq, archive_dir=ctx.keys.ledger_archives())
            data["proof_error"] = ""
        except LedgerError as exc:
            data["proof"], data["proof_error"] = None, exc.message
    return data


def lineage_nodes(ctx: Context) -> dict[str, dict[str, Any]]:
    """Every node of the lineage graph by id."""
    permit(ctx.actor, Action.LEDGER_AUDIT)
    with ctx.read() as session:
        return graph.build(session).nodes


def archive(ctx: Context, before: str) -> list[dict[str, Any]]:
    """Seal whole months before ``before`` (YYYY-MM) into signed Parquet archives."""
    permit(ctx.actor, Action.LEDGER_MAINTAIN)
    with ctx.transaction() as session:
        sealed = seal_months(session, ctx.actor, ctx.data.local("ledger"), ctx.keys.signer,
                             ctx.keys.origin, before, utcnow())
        ctx.data.put("ledger")
    return sealed


def purge(ctx: Context, before: str) -> dict[str, Any]:
    """Delete the rows of archived events older than the policy's retention."""
    permit(ctx.actor, Action.LEDGER_MAINTAIN)
    with ctx.transaction() as session:
        return purge_months(session, ctx.actor, before, ctx.policy.retention_years, utcnow())


def rotate_key(ctx: Context) -> dict[str, Any]:
    """Replace the platform key; the rotation is logged and signed by the old key."""
    permit(ctx.actor, Action.LEDGER_MAINTAIN)
    return ctx.keys.rotate_key(ctx.actor)


def data_keys(ctx: Context) -> dict[str, Any]:
    """The data keys of encryption at rest: scope, fingerprint, master key, life (never the
    keys themselves)."""
    from vault import keys

    permit(ctx.actor, Action.LEDGER_AUDIT)
    with ctx.read() as session:
        rows = [k.as_dict() for k in keys.listed(session)]
    master = None
    try:
        master = ctx.keys.master_key.kid
    except DomainError as exc:
        master = f"unavailable: {exc.message}"
    return {"master_kid": master, "keys": rows,
            "live": sum(1 for k in rows if not k["destroyed_at"]),
            "destroyed": sum(1 for k in rows if k["destroyed_at"])}


def rewrap_keys(ctx: Context, key_file: str) -> dict[str, Any]:
    """Wrap every live data key by the master key in ``key_file`` (a new one is written there
    when the file does not exist yet); the platform then runs with TDS_KEY_FILE set to it."""
    from pathlib import Path

    from vault import keys
    from vault.master import read_key_file, write_key_file

    permit(ctx.actor, Action.LEDGER_MAINTAIN)
    path = Path(key_file).expanduser()
    created = not path.exists()
    new = write_key_file(path) if created else read_key_file(path)
    with ctx.transaction() as session:
        rows = keys.rewrap(session, new, ctx.actor)
        count = len(rows)
    return {"master_kid": new.kid, "key_file": str(path), "created": created,
            "rewrapped": count}
