"""/api/v1 ledger: verification, audit search, lineage, proofs (administrators)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from actions import Context
from actions import ledger as ledger_actions
from policies.permissions import Action
from reporting import graph, metering
from service.api.params import MAX_ID, PathId, QueryId
from service.api.routes.deps import acting

router = APIRouter(tags=["ledger"])
Auditor = Annotated[Context, Depends(acting(Action.LEDGER_AUDIT))]


@router.get("/ledger/verify")
def ledger_verify(ctx: Auditor) -> dict[str, Any]:
    return ledger_actions.verify(ctx)


@router.get("/ledger/events")
def ledger_events(ctx: Auditor, actor: str | None = None, action: str | None = None,
                  subject: str | None = None, since: str | None = None,
                  until: str | None = None, before: QueryId = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Audit search, newest first, each event with its verification status; page with
    ``before`` = the previous page's ``next_before``."""
    return ledger_actions.events(ctx, actor=actor, action=action, subject=subject, since=since,
                                 until=until, before_seq=before, limit=limit)


@router.get("/lineage/{node}", response_model=None)
def lineage_show(node: str, ctx: Auditor,
                 direction: Literal["up", "down", "both"] = "both",
                 format: Literal["json", "svg", "dot"] = "json") -> Response | dict[str, Any]:
    """Lineage of a dataset (dataset:NAME), dataset version, job, output, egress request or
    release, as JSON, Graphviz DOT or an SVG picture."""
    part = ledger_actions.lineage(ctx, node, direction)
    if format == "svg":
        return Response(graph.to_svg(part), media_type="image/svg+xml")
    if format == "dot":
        return Response(graph.to_dot(part), media_type="text/vnd.graphviz")
    return part.as_dict()


@router.get("/ledger/proof/{seq}")
def ledger_proof(seq: PathId, ctx: Auditor) -> dict[str, Any]:
    """Inclusion proof of one event against the latest signed checkpoint."""
    return ledger_actions.proof(ctx, seq)


@router.get("/ledger/consistency")
def ledger_consistency(old: Annotated[int, Query(ge=1, le=MAX_ID)], ctx: Auditor,
                       new: QueryId = None) -> dict[str, Any]:
    """Consistency proof between two signed checkpoints (``new`` default: the latest)."""
    return ledger_actions.consistency(ctx, old, new)


@router.get("/usage", response_model=None)
def usage(ctx: Auditor,
          since: Annotated[str, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")],
          until: Annotated[str, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")],
          format: Literal["json", "csv"] = "json",
          part: Literal["organizations", "grants", "datasets"] = "grants") -> Any:
    """Usage metered from the ledger between two dates (until excluded): per organization and
    grant, jobs, job seconds, rows produced, releases and downloads; per dataset, jobs,
    releases and downloads. ``format=csv`` gives one ``part`` as CSV."""
    report = ledger_actions.usage(ctx, since, until)
    if format == "csv":
        return Response(metering.as_csv(report, part), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="usage-{part}-{since}-{until}.csv"'})
    return report
