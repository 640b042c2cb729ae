"""What a reviewer reads of the output they are asked to sign: its values, a page at a time,
with the cells disclosure control flagged marked in place and labelled by their group keys
(as SACRO-Viewer shows them). The file shown is the one a release would carry: the mitigated
output when the merchant chose a mitigation, else the job's output.

Merchants never read these values, nor the group keys of flagged cells: a failing cell's key
alone says that a group with fewer contributors than the threshold exists (``GROUP BY
resident_id`` would list every identifier). Reviewers of the merchant's own organization
read them neither."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from sqlalchemy.orm import Session

from catalog import encryption
from egress import requesting
from egress.errors import Conflict, ReviewRefused
from policies import Actor, Role
from policies.permissions import Action, permit
from sandbox.models import Job
from storage import Storage
from vault.files import read_table


def page(session: Session, actor: Actor, data: Storage, request_id: int, offset: int = 0,
         limit: int = 50, flagged_only: bool = False) -> dict[str, Any]:
    """Rows ``offset``.. of the output to release (at most ``limit``); ``flagged_only``: the
    rows holding a flagged cell only."""
    permit(actor, Action.EGRESS_VALUES)
    req = requesting.get(session, actor, request_id)
    if actor.role == Role.REVIEWER and actor.org == req.org:
        raise ReviewRefused("a reviewer does not read the values of a request of their own "
                            "organization")
    if req.status == "draft":
        raise Conflict("egress request {id} is a draft; its output is not submitted", id=req.id)
    job = session.get(Job, req.job_id)
    path = req.mitigated_path or job.output_path
    if not path:
        raise Conflict("the output of egress request {id} is gone", id=req.id)
    table = read_table(data.fetch(path), encryption.grant_key(session, job.grant_id))
    flags, keys, listed_all = flagged_cells(req.checks)
    numbers = sorted(flags) if flagged_only else range(table.num_rows)
    chosen = list(numbers)[max(offset, 0):max(offset, 0) + max(min(limit, 500), 1)]
    columns = table.column_names
    rows = []
    for number, record in zip(chosen, table.take(chosen).to_pylist(), strict=True):
        values = {c: _shown(v) for c, v in record.items()}
        marks = flags.get(number, {})
        rows.append({"row": number, "cells": [values[c] for c in columns],
                     "flags": marks,
                     "label": " · ".join(f"{k}={values[k]}" for k in keys if k in values)
                     if marks else None})
    return {"request_id": req.id, "columns": columns,
            "types": [str(t) for t in table.schema.types], "key_columns": keys,
            "mitigated": bool(req.mitigated_path), "total_rows": table.num_rows,
            "flagged_rows": len(flags), "all_flags_listed": listed_all,
            "offset": max(offset, 0), "limit": limit, "flagged_only": flagged_only,
            "rows": rows}


def flagged_cells(checks: list[dict[str, Any]] | None
                  ) -> tuple[dict[int, dict[str, list[str]]], list[str], bool]:
    """The disclosure check's flagged cells by row and column with their rules, the key
    columns, and whether the check listed every flagged cell (it keeps the first few
    hundred)."""
    check = next((c for c in checks or [] if c["name"] == "disclosure"), {})
    details = check.get("details") or {}
    flags: dict[int, dict[str, list[str]]] = {}
    for f in details.get("flagged") or []:
        flags.setdefault(int(f["row"]), {}).setdefault(f["column"], []).append(f["rule"])
    listed = sum(len(rules) for marks in flags.values() for rules in marks.values())
    return flags, list(details.get("keys") or []), listed >= sum(
        (details.get("counts") or {}).values())


def _shown(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.date, dt.datetime, dt.time, decimal.Decimal)):
        return str(value)
    return repr(value)
