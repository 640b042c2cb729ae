"""Statistical disclosure control of aggregate outputs, with ACRO's rules and defaults.

Each rule marks the cells that break it, from the statistics :mod:`egress.cells` computed per
cell in DuckDB. Rules, thresholds and the way ACRO 1.0 applies them (``acro.sdcchecks``):

- threshold (MinimumThresholdCheck): fewer than ``min_cell_count`` contributors; counts, sums,
  means, medians, minima and maxima;
- zeros (PresenceOfZeroCheck): a count of zero, or an empty cell, when zeros are disclosive;
- nk-rule (NKCheck): the ``nk_n`` largest contributions make ``nk_k`` or more of a sum or mean;
- p-ratio (PPercentCheck): what is left after the two largest contributions is less than
  ``p_ratio`` of the largest;
- negative values: dominance is undefined, so the cells holding negatives go to review instead;
- missing (MissingCheck): a statistic over values some of which are missing goes to review;
- degrees of freedom (MinimumDoFCheck): a standard deviation or variance needs ``min_dof``
  residual degrees of freedom (contributors - 1), a regression statistic (regr_*, corr, covar)
  contributors - 2;
- individual values: list(), string_agg(), first(), arg_max() ... return contributors' own
  values and always fail.

A count over distinct values (``count(DISTINCT person)``) is held to the threshold too: the
smaller of rows and count is the cell's number of contributors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from egress.cells import REGRESSION_PARAMETERS, Aggregate, Shape

PASS, REVIEW, FAIL = "pass", "review", "fail"

# Our rule names, ACRO 1.0's check names (results.json) and the verdict a marked cell gives.
RULES: dict[str, tuple[str, str]] = {
    "threshold": ("MinimumThresholdCheck", FAIL),
    "zeros": ("PresenceOfZeroCheck", FAIL),
    "nk_rule": ("NKCheck", FAIL),
    "p_ratio": ("PPercentCheck", FAIL),
    "negative": ("NegativeValues", REVIEW),
    "missing": ("MissingCheck", REVIEW),
    "dof": ("MinimumDoFCheck", FAIL),
    "individual_values": ("IndividualValuesCheck", FAIL),
    # Beyond ACRO: the releasable statistics are an allow-list. A minimum, maximum, mode or
    # discrete quantile is one contributor's own value (quantile_disc(x, 1.0) is the max), so
    # such a cell fails unless a reviewer overrides it for a justified exception; a statistic
    # the platform does not know fails closed.
    "unsafe_statistic": ("UnsafeStatisticCheck", FAIL),
    "unknown_statistic": ("StatbarnDataCheck", FAIL),
}
# Rules of ours that ACRO does not have (left out where ACRO's verdicts are compared).
BEYOND_ACRO = frozenset({"unsafe_statistic"})
ACRO_NAMES = {rule: acro for rule, (acro, _) in RULES.items()}


@dataclass
class Assessment:
    """Per-rule marks over the cells of the output: ``marks[rule][column]`` is a boolean array
    over output rows."""

    rows: int
    columns: list[str]
    keys: list[str]
    marks: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def mark(self, rule: str, column: str, mask: np.ndarray) -> None:
        if not mask.any():
            return
        per_column = self.marks.setdefault(rule, {})
        per_column[column] = per_column.get(column, np.zeros(self.rows, bool)) | mask

    def verdict(self) -> str:
        found = {RULES[rule][1] for rule in self.marks}
        return FAIL if FAIL in found else REVIEW if REVIEW in found else PASS

    def counts(self) -> dict[str, int]:
        return {rule: int(sum(m.sum() for m in cols.values()))
                for rule, cols in self.marks.items()}

    def failing(self) -> dict[str, np.ndarray]:
        """Cells that fail (not merely review), per column."""
        out: dict[str, np.ndarray] = {}
        for rule, cols in self.marks.items():
            if RULES[rule][1] == FAIL:
                for column, mask in cols.items():
                    out[column] = out.get(column, np.zeros(self.rows, bool)) | mask
        return out

    def cell_rules(self, row: int, column: str) -> list[str]:
        return [rule for rule, cols in self.marks.items()
                if column in cols and cols[column][row]]

    def outcome(self) -> dict[str, dict[str, str]]:
        """ACRO's outcome table: per column, per row, "ok" or the failing checks."""
        table: dict[str, dict[str, str]] = {}
        for column in self.columns:
            if column in self.keys:
                continue
            entries = {}
            for row in range(self.rows):
                rules = self.cell_rules(row, column)
                entries[str(row)] = "".join(f"{ACRO_NAMES[r]}; " for r in rules) or "ok"
            table[column] = entries
        return table


def _numbers(stats: pa.Table, name: str) -> np.ndarray:
    """A statistics column as float64 with NaN for NULL."""
    column = stats.column(name).combine_chunks()
    if pa.types.is_decimal(column.type) or pa.types.is_integer(column.type) or \
            pa.types.is_boolean(column.type):
        column = column.cast(pa.float64())
    if pa.types.is_floating(column.type):
        return column.to_numpy(zero_copy_only=False).astype(float)
    return np.array([np.nan if v is None else float(v) for v in column.to_pylist()])


def assess(shape: Shape, stats: pa.Table, rules: dict[str, Any]) -> Assessment:
    """Apply the rules (the policy's ``[egress.disclosure]``) to every cell. ``stats`` holds the
    statistics query's rows in the output's row order."""
    columns = [c for c in stats.column_names if not c.startswith("tds__")]
    result = Assessment(stats.num_rows, columns, list(shape.keys))
    for aggregate in shape.aggregates:
        _assess_one(result, aggregate, stats, rules)
    return result


def _assess_one(result: Assessment, agg: Aggregate, stats: pa.Table,
                rules: dict[str, Any]) -> None:
    column, kind = agg.column, agg.kind
    n = _numbers(stats, agg.stats["n"])
    threshold = int(rules["min_cell_count"])
    if kind == "frequency":
        contributors = n
        if agg.alone:
            value = _numbers(stats, column)
            contributors = np.fmin(n, value)
            if rules["zeros_disclosive"]:
                result.mark("zeros", column, (value == 0) | (n == 0))
        result.mark("threshold", column, ~(contributors >= threshold))
        return
    if kind in ("linear", "position", "endpoint", "unknown"):
        result.mark("threshold", column, ~(n >= threshold))
    if kind in ("position", "endpoint", "mode") and rules["zeros_disclosive"]:
        result.mark("zeros", column, n == 0)
    if kind in ("endpoint", "mode"):
        result.mark("unsafe_statistic", column, np.ones(result.rows, bool))
    if rules["check_missing_values"] and "present" in agg.stats:
        result.mark("missing", column, _numbers(stats, agg.stats["present"])
                    < _numbers(stats, agg.stats["rows"]))
    if kind == "linear":
        _dominance(result, agg, stats, rules)
    elif kind == "shape":
        result.mark("dof", column, ~(n - 1 >= int(rules["min_dof"])))
    elif kind == "regression":
        residual = _numbers(stats, agg.stats["regr"]) - REGRESSION_PARAMETERS
        result.mark("dof", column, ~(residual >= int(rules["min_dof"])))
    elif kind == "reveals":
        result.mark("individual_values", column, np.ones(result.rows, bool))
    elif kind == "unknown":
        result.mark("unknown_statistic", column, np.ones(result.rows, bool))


def _dominance(result: Assessment, agg: Aggregate, stats: pa.Table,
               rules: dict[str, Any]) -> None:
    negative = _numbers(stats, agg.stats["negative"])
    if np.nansum(negative) > 0:
        # As ACRO: dominance is not defined with negative contributions; those cells go to review.
        result.mark("negative", agg.column, negative > 0)
        return
    total = _numbers(stats, agg.stats["sum"])
    top1 = _numbers(stats, agg.stats["max"])
    top2 = _numbers(stats, agg.stats["top2"])
    with np.errstate(divide="ignore", invalid="ignore"):
        share = _numbers(stats, agg.stats["topn"]) / total
        rest = total - top2
        p_value = np.where(top1 == 0, rest, rest / np.where(top1 == 0, np.nan, top1))
    p_value = np.where(np.isnan(p_value), 1.0, p_value)
    result.mark("nk_rule", agg.column, np.nan_to_num(share, nan=-1.0) >= float(rules["nk_k"]))
    result.mark("p_ratio", agg.column, p_value < float(rules["p_ratio"]))
