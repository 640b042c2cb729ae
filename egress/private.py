"""The checks of an egress request for a differentially private output (:mod:`sandbox.dp`).

Its cells carry calibrated noise and its grant's budget bounds what all its outputs tell
together, so the small-cell, dominance and differencing rules (which judge exact figures) are
not applied (policy ``[privacy] skip_cell_rules``); the other checks are. Its columns trace to
the dataset by its specification, not by parsing the platform's SQL. An output made before a
consent of its dataset changed is not released: its rows were those consents' persons.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from catalog.models import Grant
from egress import checks
from egress.cells import Aggregate, Shape
from egress.checks import CheckResult
from sandbox import jobs
from sandbox.models import Job
from storage import Storage


def traced(job: Job) -> dict[str, Any]:
    """Each output column of a DP job traced to the dataset columns it is computed from."""
    spec = job.dp["spec"]
    table = spec["table"]
    columns: dict[str, list[list[str]]] = {g["column"]: [[table, g["column"]]]
                                           for g in spec["by"]}
    for measure in spec["measures"]:
        name = _name(measure)
        columns[name] = [[table, measure["column"]]] if measure.get("column") else []
    return {"exact": True, "columns": columns}


def _name(measure: dict[str, Any]) -> str:
    from sandbox.dp import Measure

    return Measure(measure["statistic"], measure.get("column"), measure.get("lower", 0.0),
                   measure.get("upper", 0.0), measure.get("alpha", 0.5)).name


def shape(job: Job) -> Shape:
    """A DP output is an aggregate: its keys, and one statistic per other column."""
    spec = job.dp["spec"]
    keys = [g["column"] for g in spec["by"]]
    aggregates = [Aggregate(i, m["statistic"], "frequency" if m["statistic"] == "count" else
                            "statistic", _name(m), True, values=(m["column"],) if
                            m.get("column") else ()) for i, m in enumerate(spec["measures"])]
    return Shape("aggregate", keys=keys, aggregates=aggregates)


def changed_consents(session: Session, data: Storage, job: Job, grant: Grant) -> list[str]:
    """Datasets used with consent whose consents in force differ from those the job ran with."""
    ran = (job.dp or {}).get("consent") or {}
    changed = []
    for item in grant.items:
        dataset = item.dataset_version.dataset
        if not dataset.consent_required:
            continue
        now, _ = jobs.consent_file(session, data, grant, item)
        if ran.get(dataset.name) != Path(now).name:
            changed.append(dataset.name)
    return changed


def cell_checks(session: Session, data: Storage, job: Job,
                grant: Grant) -> tuple[CheckResult, CheckResult]:
    """The disclosure and differencing checks of a DP output, in place of the cell rules."""
    spec = job.dp["spec"]
    cells = job.output_rows or 0
    details = {"shape": "aggregate", "dp": {k: job.dp.get(k) for k in (
        "epsilon", "delta", "mechanisms", "contributions", "library", "composition")},
        "cells": cells, "keys": [g["column"] for g in spec["by"]]}
    try:
        changed = changed_consents(session, data, job, grant)
    except Exception:  # a consent scope that cannot be read fails closed
        changed = ["?"]
    if changed:
        disclosure = CheckResult("disclosure", checks.FAIL, "disclosure.dp_consent_changed",
                                 {"datasets": ", ".join(changed)}, details=details)
    else:
        disclosure = CheckResult("disclosure", checks.PASS, "disclosure.dp", {
            "epsilon": f"{job.dp['epsilon']:g}", "cells": cells,
            "contributions": spec["contributions"]}, details=details)
    return disclosure, CheckResult("differencing", checks.PASS, "differencing.dp",
                                   details={"epsilon": job.dp["epsilon"]})
