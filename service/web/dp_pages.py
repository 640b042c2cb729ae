"""The workspace's differentially private statistics: the grant's privacy budget and the form
of a DP job (:mod:`sandbox.dp`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from actions import jobs as job_actions
from policies.errors import DomainError
from policies.permissions import Action
from sandbox.errors import QueryRefused
from service.api.params import PathId
from service.web.base import Form, Member, back, context, member
from service.web.i18n import Said
from service.web.work_pages import workspace_view

router = APIRouter(include_in_schema=False)
FIELDS = ("table", "by", "count", "statistics", "where", "epsilon", "contributions",
          "output_name")


def spec_of(form: dict[str, str]) -> dict[str, Any]:
    """The DP spec the form describes. ``by``: a group column per line, with keys after "="
    separated by commas; ``statistics``: "mean fee 0 2000" or "quantile age 0 100 0.9" per
    line."""
    groups = []
    for line in form["by"].splitlines():
        column, _, keys = line.strip().partition("=")
        if column.strip():
            groups.append({"column": column.strip(), **(
                {"keys": [k.strip() for k in keys.split(",") if k.strip()]} if keys else {})})
    measures: list[dict[str, Any]] = [{"statistic": "count"}] if form["count"] else []
    for line in form["statistics"].splitlines():
        words = line.split()
        if not words:
            continue
        if len(words) not in (4, 5):
            raise QueryRefused("write each statistic as: statistic column lower upper (and "
                               "alpha for a quantile)")
        try:
            figures = [float(w) for w in words[2:]]
        except ValueError:
            raise QueryRefused("the bounds of a statistic must be numbers") from None
        measure = {"statistic": words[0], "column": words[1], "lower": figures[0],
                   "upper": figures[1]}
        if len(figures) == 3:
            measure["alpha"] = figures[2]
        measures.append(measure)
    try:
        epsilon = float(form["epsilon"])
        contributions = int(form["contributions"] or 1)
    except ValueError:
        raise QueryRefused("epsilon and contributions must be numbers") from None
    return {"table": form["table"], "by": groups, "measures": measures, "where": form["where"],
            "epsilon": epsilon, "contributions": contributions}


@router.post("/workspace/{grant_id}/dp", response_model=None)
def dp_submit(request: Request, grant_id: PathId,
              m: Annotated[Member, Depends(member(Action.JOB_SUBMIT))], form: Form) -> Response:
    values = {k: str(form.get(k, ""))[:5000] for k in FIELDS}
    target = "simulated" if form.get("target") == "simulated" else "real"
    try:
        job = job_actions.submit_dp(context(request, m), grant_id, spec_of(values),
                                    values["output_name"].strip(), target)
    except DomainError as exc:
        return workspace_view(request, m, grant_id, dp_error=Said(exc), dp_form=values,
                              status=422)
    return back(f"/jobs/{job['id']}")
