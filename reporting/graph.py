"""The lineage graph, built from the ledger alone: dataset versions (and merchants' own tables)
-> jobs -> outputs -> egress requests -> releases -> downloads. Node ids are the ledger's
subjects (``dataset_version:3``, ``own_data:2``, ``job:7``, ``egress:2``, ``release:1``) plus
``output:<job id>`` and ``download:<event seq>``; ``dataset:<name>`` names every version of a
dataset."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import events as catalog_events
from egress import events as egress_events
from lineage.errors import LedgerError
from lineage.ledger import LedgerEvent
from sandbox import events as sandbox_events

ACTIONS = (catalog_events.DATASET_REGISTERED, sandbox_events.OWN_DATA_UPLOADED,
           sandbox_events.OWN_DATA_DELETED, sandbox_events.JOB_QUEUED,
           sandbox_events.JOB_SUCCEEDED, egress_events.EGRESS_REQUESTED,
           egress_events.RELEASE_CREATED, egress_events.RELEASE_DOWNLOADED)
KINDS = ("dataset_version", "own_data", "job", "output", "egress", "release", "download")


class NotFound(LedgerError):
    kind = "not_found"


class GraphUnavailable(LedgerError):
    kind = "unavailable"


@dataclass
class Graph:
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)

    def node(self, node_id: str, **attributes: Any) -> None:
        self.nodes.setdefault(node_id, {"id": node_id, "kind": node_id.split(":")[0]}).update(
            attributes)

    def edge(self, source: str, target: str) -> None:
        self.edges.add((source, target))

    def as_dict(self) -> dict[str, Any]:
        return {"nodes": sorted(self.nodes.values(), key=_order),
                "edges": [{"from": a, "to": b} for a, b in sorted(self.edges)]}


def _order(node: dict[str, Any]) -> tuple[int, int, str]:
    kind, _, rest = node["id"].partition(":")
    return (KINDS.index(kind) if kind in KINDS else 99, int(rest) if rest.isdigit() else 0, rest)


def build(session: Session) -> Graph:
    """The whole graph from the ledger's lineage events."""
    graph = Graph()
    versions: dict[tuple[str, int], str] = {}
    rows = session.execute(select(LedgerEvent.seq, LedgerEvent.time, LedgerEvent.action,
                                  LedgerEvent.subject, LedgerEvent.payload)
                           .where(LedgerEvent.action.in_(ACTIONS)).order_by(LedgerEvent.seq)
                           .execution_options(yield_per=10_000))
    for seq, time, action, subject, payload_text in rows:
        payload = json.loads(payload_text)
        if action == catalog_events.DATASET_REGISTERED:
            versions[(payload.get("registration_no"), payload.get("version"))] = subject
            graph.node(subject, label=f"{payload.get('dataset')} v{payload.get('version')}",
                       dataset=payload.get("dataset"), sha256=payload.get("sha256"),
                       rows=payload.get("rows"), time=time)
        elif action == sandbox_events.OWN_DATA_UPLOADED:
            graph.node(subject, label=f"{payload.get('name')} (own, grant "
                       f"{payload.get('grant_id')})", sha256=payload.get("sha256"),
                       rows=payload.get("rows"), time=time)
        elif action == sandbox_events.OWN_DATA_DELETED:
            graph.node(subject, deleted=time)
        elif action == sandbox_events.JOB_QUEUED:
            graph.node(subject, label=f"{subject} ({payload.get('target')})",
                       target=payload.get("target"), grant_id=payload.get("grant_id"), time=time)
            for source in (payload.get("sources") or {}).values():
                if source.get("kind") == "dataset":
                    origin = versions.get((source.get("registration_no"), source.get("version")))
                    if origin:
                        graph.edge(origin, subject)
                elif source.get("kind") == "own":
                    graph.edge(f"own_data:{source.get('own_id')}", subject)
                elif source.get("kind") == "output":
                    graph.edge(f"output:{source.get('job_id')}", subject)
        elif action == sandbox_events.JOB_SUCCEEDED:
            job_id = subject.partition(":")[2]
            graph.node(f"output:{job_id}", label=f"output of job {job_id}",
                       rows=payload.get("rows"), sha256=payload.get("sha256"), time=time)
            graph.edge(subject, f"output:{job_id}")
        elif action == egress_events.EGRESS_REQUESTED:
            graph.node(subject, label=f"{subject}: {payload.get('product')}",
                       product=payload.get("product"), time=time)
            graph.edge(f"output:{payload.get('job_id')}", subject)
        elif action == egress_events.RELEASE_CREATED:
            graph.node(subject, label=f"{subject} {payload.get('product_no')}",
                       product_no=payload.get("product_no"),
                       manifest_sha256=payload.get("manifest_sha256"), time=time)
            graph.edge(f"egress:{payload.get('request_id')}", subject)
        elif action == egress_events.RELEASE_DOWNLOADED:
            graph.node(f"download:{seq}", label=f"download {time[:16]}", time=time)
            graph.edge(subject, f"download:{seq}")
    return graph


def neighbourhood(graph: Graph, start: str, direction: str = "both") -> Graph:
    """The part of the graph upstream, downstream or both ways of ``start``."""
    if start.startswith("dataset:"):
        name = start.partition(":")[2]
        starts = [n for n, a in graph.nodes.items() if a.get("dataset") == name]
    else:
        starts = [start] if start in graph.nodes else []
    if not starts:
        raise NotFound("no lineage node {start!r} (use dataset:NAME, dataset_version:ID, job:ID, "
                       "output:ID, egress:ID or release:ID)",
                       start=start[:80])
    ways = {"up": ("up",), "down": ("down",), "both": ("up", "down")}[direction]
    keep: set[str] = set(starts)
    for way in ways:
        queue = deque(starts)
        while queue:
            current = queue.popleft()
            for a, b in graph.edges:
                nxt = b if way == "down" and a == current else a if way == "up" and b == current \
                    else None
                if nxt is not None and nxt not in keep:
                    keep.add(nxt)
                    queue.append(nxt)
    part = Graph({n: graph.nodes.get(n, {"id": n, "kind": n.split(":")[0]}) for n in keep},
                 {(a, b) for a, b in graph.edges if a in keep and b in keep})
    for n in starts:
        part.nodes[n] = dict(part.nodes[n], focus=True)
    return part


_SHAPES = {"dataset_version": "cylinder", "own_data": "cylinder", "job": "box",
           "output": "note", "egress": "diamond", "release": "component", "download": "ellipse"}


def to_dot(graph: Graph) -> str:
    def q(text: Any) -> str:
        return json.dumps(str(text), ensure_ascii=False)
    lines = ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Noto Sans CJK SC"];']
    for node in sorted(graph.nodes.values(), key=_order):
        style = ', style="filled,bold", fillcolor="#fff3c4"' if node.get("focus") else ""
        lines.append(f"  {q(node['id'])} [label={q(node.get('label', node['id']))}, "
                     f"shape={_SHAPES.get(node['kind'], 'box')}{style}];")
    lines += [f"  {q(a)} -> {q(b)};" for a, b in sorted(graph.edges)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def drawable() -> bool:
    """Whether pictures can be drawn here (Graphviz's ``dot`` is installed)."""
    return shutil.which("dot") is not None


def to_svg(graph: Graph) -> bytes:
    """The graph drawn by Graphviz (``dot``), as SVG."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphUnavailable("Graphviz is not installed (the `dot` program): install the "
                               "graphviz package to draw lineage pictures")
    done = subprocess.run([dot, "-Tsvg"], input=to_dot(graph).encode("utf-8"),
                          capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise GraphUnavailable("Graphviz failed: {reason}",
                               reason=done.stderr.decode(errors="replace")[:200])
    return done.stdout
