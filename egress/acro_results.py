"""ACRO's results.json for an egress request, so SACRO-Viewer-style tools can read the checks.

Layout of ACRO 1.0 (``acro.record.Records.finalise_json``): ``version``, ``tool`` and per output
``uid``, ``status``, ``type``, ``properties``, ``files`` (each with ``sdc``: per-check counts and
flagged ``[row, column]`` cells), ``outcome`` (per column, per row: "ok" or the failing checks),
``command``, ``summary``, ``timestamp``, ``comments`` and ``exception``.
"""

from __future__ import annotations

from typing import Any

from catalog.models import utcnow
from egress.cells import Shape
from egress.checks import CheckResult
from egress.disclosure import ACRO_NAMES, Assessment
from egress.models import EgressRequest
from sandbox.models import Job

NAME = "results.json"
ACRO_VERSION = "1.0.2"


def build(req: EgressRequest, job: Job, results: list[CheckResult], shape: Shape,
          assessment: Assessment | None) -> dict[str, Any]:
    verdicts = [r.verdict for r in results]
    status = "fail" if "fail" in verdicts else "review" if "review" in verdicts else "pass"
    sdc: dict[str, Any] = {"summary": {}, "cells": {}}
    outcome: dict[str, Any] = {}
    if assessment is not None:
        columns = [c for c in assessment.columns]
        for rule, per_column in assessment.marks.items():
            name = ACRO_NAMES[rule]
            sdc["summary"][name] = int(sum(m.sum() for m in per_column.values()))
            sdc["cells"][name] = [[int(row), columns.index(column)]
                                  for column, mask in per_column.items()
                                  for row in mask.nonzero()[0]]
        outcome = assessment.outcome()
    failing = [r for r in results if r.verdict != "pass"]
    exception = "\n".join(f"{name}: {text}" for name, text in (req.exceptions or {}).items())
    return {
        "version": ACRO_VERSION,
        "tool": {"@type": "SoftwareApplication", "name": "Trusted Data Sandbox egress checks "
                 "(ACRO-compatible)", "url": "https://github.com/AI-SDC/ACRO",
                 "version": ACRO_VERSION},
        "results": {"output_0": {
            "uid": "output_0", "status": status,
            "type": "table" if shape.kind == "aggregate" else "custom",
            "properties": {"method": "sql", "shape": shape.kind, "mitigation": req.mitigation,
                           "checks": {r.name: r.verdict for r in results}},
            "files": [{"name": "output.parquet", "sdc": sdc}],
            "outcome": outcome, "command": job.sql,
            "summary": "; ".join(f"{r.name}: {r.verdict}" for r in failing) or "pass",
            "timestamp": utcnow().isoformat(timespec="seconds"),
            "comments": [r.message for r in failing],
            "exception": exception,
        }},
    }
