"""Differentially private aggregates: counts, sums, means and quantiles per group of one granted
dataset, released with noise from OpenDP under a per-grant budget of epsilon.

A DP job is specified, not written in SQL: a table (one granted dataset), optional filter, the
group columns with their keys, the statistics (each sum, mean and quantile with the bounds its
values are clamped to), the job's epsilon and how many rows a person may contribute. The
platform writes the SQL itself (:func:`statement`). It runs like any job, in a locked DuckDB
process, over the dataset with its contributors (the person key's pseudonym, or the row number
when the dataset has none): each person's rows beyond ``contributions`` are dropped, values are
clamped, and the exact per-group counts, sums and values never leave the job directory: the
worker adds the noise (:func:`privatize`) before the output enters the workspace.

Why this split and not OpenDP's Polars front end: jobs already run in a locked DuckDB process,
which aggregates 10M rows in well under a second; OpenDP's Polars plugin would bring a second
engine (and a pinned Polars) into the sandbox and copy every row into it. OpenDP is used for
what it is for: calibrating and sampling the noise (discrete Laplace for counts, Laplace for
sums, the exponential mechanism by report-noisy-max for quantiles) and proving each
mechanism's epsilon by its privacy map.

Privacy accounting: neighbouring datasets differ by one person (all their rows); after the
bound a person has at most ``c`` rows. The count vector's L1 sensitivity is ``c``, a sum
vector's ``c * max(|lower|, |upper|)`` (values are summed exactly, as DECIMAL(38, 6), so no
floating-point rounding widens it); a quantile of one group changes by at most ``c`` inserted
or deleted values, and a person reaches at most ``min(c, groups)`` groups. The job's epsilon is
split evenly over its releases (a mean is two: a noisy sum over a noisy count) and the
releases compose sequentially: pure epsilon-DP, delta = 0. Keys are given by the merchant (or
are the values of the simulated preview, which the merchant has already seen): which groups
exist in the real data is never released, and a group without rows gets noise like any other.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
import pyarrow as pa

from catalog.names import quote_identifier
from policies import Policy
from sandbox import gate
from sandbox.errors import JobFailed, QueryRefused
from sandbox.spec import PERSON_COLUMN, ROW_COLUMN

STATISTICS = ("count", "sum", "mean", "quantile")
NUMERIC_TYPES = ("int", "uint", "float", "double", "decimal", "halffloat")
MAX_KEY_LENGTH = 200
MAX_WHERE_LENGTH = 2_000
LARGEST_BOUND = 1e11  # a clamped value fits DECIMAL(18, 6); sums add up as DECIMAL(38, 6)
# Columns of the exact table the job leaves for privatize (never in a workspace).
COUNT, SUM, N, HISTOGRAM = "tds__count", "tds__sum_", "tds__n_", "tds__hist_"


@dataclass(frozen=True)
class Measure:
    """One statistic: ``count`` (rows per group), or ``sum``/``mean``/``quantile`` of a numeric
    column clamped to [lower, upper] (``alpha`` in (0, 1) for a quantile)."""

    statistic: str
    column: str | None = None
    lower: float = 0.0
    upper: float = 0.0
    alpha: float = 0.5

    @property
    def name(self) -> str:
        """The output column."""
        if self.statistic == "count":
            return "count"
        if self.statistic == "quantile":
            percent = self.alpha * 100
            label = f"{percent:g}".replace(".", "_")
            return f"p{label}_{self.column}"
        return f"{self.statistic}_{self.column}"

    @property
    def releases(self) -> int:
        """Noisy releases it needs (each gets an equal part of the job's epsilon)."""
        return 2 if self.statistic == "mean" else 1

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"statistic": self.statistic}
        if self.statistic != "count":
            found.update(column=self.column, lower=self.lower, upper=self.upper)
        if self.statistic == "quantile":
            found["alpha"] = self.alpha
        return found


@dataclass(frozen=True)
class Spec:
    """What a DP job computes. ``by``: (column, keys) per group column; ``where``: a filter
    expression over the table's granted columns."""

    table: str
    by: tuple[tuple[str, tuple[str, ...]], ...]
    measures: tuple[Measure, ...]
    epsilon: float
    contributions: int = 1
    where: str = ""
    # Whether the table's rows carry a person key (set by the platform from the catalog, never
    # by the merchant): without one each row is its own person and needs no bound.
    per_person: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table,
                "by": [{"column": c, "keys": list(k)} for c, k in self.by],
                "measures": [m.as_dict() for m in self.measures], "epsilon": self.epsilon,
                "contributions": self.contributions, "where": self.where,
                "per_person": self.per_person}

    def cells(self) -> int:
        return math.prod(len(keys) for _, keys in self.by)

    def with_keys(self, column: str, keys: tuple[str, ...]) -> Spec:
        by = tuple((c, keys if c == column else k) for c, k in self.by)
        return dataclasses.replace(self, by=by)


def stored(document: dict[str, Any], policy: Policy) -> Spec:
    """The spec of a DP job as the platform stored it (``per_person`` included)."""
    spec = parse(document, policy)
    return dataclasses.replace(spec, per_person=bool(document.get("per_person", True)))


def parse(raw: Any, policy: Policy) -> Spec:
    """A specification from its JSON form, its figures checked against the policy (the grant's
    columns are checked by :func:`check_columns`). Keys may be left out (``keys`` absent): the
    caller fills them from the simulated preview."""
    if not isinstance(raw, dict):
        raise QueryRefused("a DP job is specified as an object with table, measures and epsilon")
    rules = policy.privacy
    table = raw.get("table")
    if not isinstance(table, str) or not table.strip():
        raise QueryRefused("a DP job names the dataset it reads (table)")
    epsilon = _number(raw.get("epsilon"), "epsilon")
    if not 0 < epsilon <= rules.max_epsilon_per_job:
        raise QueryRefused("a DP job's epsilon must be above 0 and at most the policy's "
                           "{max_epsilon}", max_epsilon=rules.max_epsilon_per_job)
    contributions = raw.get("contributions", 1)
    if isinstance(contributions, bool) or not isinstance(contributions, int) or \
            not 1 <= contributions <= rules.max_contributions:
        raise QueryRefused("contributions (rows counted per person) must be a whole number "
                           "from 1 to the policy's {max_contributions}",
                           max_contributions=rules.max_contributions)
    by = tuple(_group(g) for g in _list(raw.get("by", []), "by"))
    if len({c for c, _ in by}) != len(by):
        raise QueryRefused("each group column is named once")
    measures = tuple(_measure(m) for m in _list(raw.get("measures"), "measures"))
    if not measures or len(measures) > rules.max_measures:
        raise QueryRefused("a DP job computes from 1 to the policy's {max_measures} statistics",
                           max_measures=rules.max_measures)
    names = [m.name for m in measures]
    if len(set(names)) != len(names) or set(names) & {c for c, _ in by}:
        raise QueryRefused("each statistic is asked once, and none is named like a group "
                           "column")
    where = raw.get("where") or ""
    if not isinstance(where, str):
        raise QueryRefused("where must be a filter expression")
    spec = Spec(table.strip(), by, measures, epsilon, contributions, where.strip())
    if spec.where:
        _check_where(spec, policy)
    if all(keys for _, keys in by) and spec.cells() > rules.max_cells:
        raise QueryRefused("the keys make {cells} groups; the policy allows {max_cells}",
                           cells=spec.cells(), max_cells=rules.max_cells)
    return spec


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise QueryRefused("{what} must be a list", what=what)
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise QueryRefused("{what} must be a finite number", what=what)
    return float(value)


def _group(raw: Any) -> tuple[str, tuple[str, ...]]:
    if isinstance(raw, str):
        raw = {"column": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("column"), str):
        raise QueryRefused("each group names its column (and may list its keys)")
    keys = raw.get("keys")
    if keys is None:
        return raw["column"], ()
    keys = _list(keys, "keys")
    if not keys or any(not isinstance(k, str) or not k or len(k) > MAX_KEY_LENGTH
                       for k in keys):
        raise QueryRefused("the keys of {column} must be text of 1 to {max_length} characters",
                           column=raw["column"], max_length=MAX_KEY_LENGTH)
    if len(set(keys)) != len(keys):
        raise QueryRefused("the keys of {column} must each be listed once", column=raw["column"])
    return raw["column"], tuple(keys)


def _measure(raw: Any) -> Measure:
    if not isinstance(raw, dict) or raw.get("statistic") not in STATISTICS:
        raise QueryRefused("each statistic is one of {statistics}",
                           statistics=", ".join(STATISTICS))
    statistic = raw["statistic"]
    if statistic == "count":
        return Measure("count")
    column = raw.get("column")
    if not isinstance(column, str) or not column:
        raise QueryRefused("a {statistic} names its column", statistic=statistic)
    lower, upper = _number(raw.get("lower"), "lower"), _number(raw.get("upper"), "upper")
    if not -LARGEST_BOUND <= lower < upper <= LARGEST_BOUND:
        raise QueryRefused("the bounds of {column} must be lower < upper, each within "
                           "{largest:g}", column=column, largest=LARGEST_BOUND)
    alpha = 0.5
    if statistic == "quantile":
        alpha = _number(raw.get("alpha", 0.5), "alpha")
        if not 0 < alpha < 1:
            raise QueryRefused("a quantile's alpha must be between 0 and 1 (0.5: the median)")
    return Measure(statistic, column, lower, upper, alpha)


def _check_where(spec: Spec, policy: Policy) -> None:
    """The filter is one plain expression over the table: no subquery, no aggregate or window,
    no comment that could swallow the rest of the statement it is placed in."""
    where = spec.where
    if len(where) > MAX_WHERE_LENGTH or any(t in where for t in ("--", "/*", ";")):
        raise QueryRefused("where must be one expression of at most {max_length} characters, "
                           "without comments", max_length=MAX_WHERE_LENGTH)
    tree = gate.check(f"SELECT 1 FROM {quote_identifier(spec.table)} WHERE {where}",
                      policy.sandbox.max_sql_length, policy.sandbox.max_expression_depth)
    node = tree["statements"][0]["node"]
    source = node.get("from_table") or {}
    plain = (node.get("type") == "SELECT_NODE" and source.get("type") == "BASE_TABLE"
             and not node.get("group_expressions") and not node.get("having")
             and not node.get("qualify") and not node.get("modifiers")
             and not (node.get("cte_map") or {}).get("map"))
    nested = any(n.get("class") in ("SUBQUERY", "WINDOW") or n.get("type") == "SUBQUERY"
                 for n in gate.walk(node.get("where_clause")))
    columns = {str(name).lower() for n in gate.walk(node.get("where_clause"))
               if n.get("class") == "COLUMN_REF" for name in n.get("column_names", [])}
    aggregated = {f.lower() for f in gate.function_names(node.get("where_clause"))} & \
        gate.aggregate_names()
    if not plain or nested or aggregated or any(c.startswith("tds__") for c in columns):
        raise QueryRefused("where must be one plain expression over the table's columns")
    # Refused here rather than when the job's statement is authorized: the same words, at once.
    gate.deterministic(tree)


def check_columns(spec: Spec, schema: dict[str, str], granted: tuple[str, ...],
                  pseudonymized: tuple[str, ...]) -> None:
    """Every column the spec names is granted; measured columns are numeric; group columns are
    not seen as pseudonyms (their keys could not be written)."""
    for column, _ in spec.by:
        if column not in granted:
            raise QueryRefused("column {column!r} is not granted to this workspace",
                               column=column)
        if column in pseudonymized:
            raise QueryRefused("{column} reaches the workspace as pseudonyms: it cannot group "
                               "a DP job", column=column)
    for measure in spec.measures:
        if measure.column is None:
            continue
        if measure.column not in granted:
            raise QueryRefused("column {column!r} is not granted to this workspace",
                               column=measure.column)
        if not schema.get(measure.column, "").startswith(NUMERIC_TYPES):
            raise QueryRefused("{column} is not numeric: only counts are computed over it",
                               column=measure.column)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def slots(spec: Spec) -> tuple[dict[tuple[Any, ...], int], dict[tuple[Any, ...], int]]:
    """The exact figures the statement computes once per (column, bounds): sums with their
    counts (for sums and means), and histograms (for quantiles)."""
    sums: dict[tuple[Any, ...], int] = {}
    histograms: dict[tuple[Any, ...], int] = {}
    for m in spec.measures:
        key = (m.column, m.lower, m.upper)
        if m.statistic in ("sum", "mean"):
            sums.setdefault(key, len(sums))
        elif m.statistic == "quantile":
            histograms.setdefault(key, len(histograms))
    return sums, histograms


def _width(lower: float, upper: float, candidates: int) -> float:
    return (upper - lower) / (candidates - 1)


def statement(spec: Spec, candidates: int) -> str:
    """The job's SQL: the exact, bounded per-group figures :func:`privatize` adds noise to.

    A quantile's values are counted per interval between adjacent candidates (a histogram of
    at most ``candidates - 1`` bins a group) instead of being listed: each value stands for
    the midpoint of its interval, a fixed map of each row, so the exponential mechanism scores
    the candidates as it would the values themselves, up to a value equal to a candidate."""
    table = quote_identifier(spec.table)
    columns = sorted({m.column for m in spec.measures if m.column})
    value = {c: f"v{i}" for i, c in enumerate(columns)}
    picked = [f"CAST({quote_identifier(c)} AS VARCHAR) AS k{i}" for i, (c, _) in enumerate(spec.by)]
    picked += [f"CAST({quote_identifier(c)} AS DOUBLE) AS {value[c]}" for c in columns]
    picked.append(f"{PERSON_COLUMN} AS tds__p" if spec.per_person else "1 AS tds__p")
    picked.append(f"{ROW_COLUMN} AS tds__r")
    # A filter that fails on some value (a cast) selects nothing there instead of failing
    # the job: a failure would tell whether such a value exists, outside the noise.
    where = f"\n  WHERE coalesce(try(({spec.where}\n  )), false)" if spec.where else ""
    keys = " CROSS JOIN ".join(
        f"(VALUES {', '.join(f'({_literal(k)})' for k in found)}) AS t{i}(k{i})"
        for i, (_, found) in enumerate(spec.by)) or "(SELECT 1 AS tds__one)"
    joined = " AND ".join(f"b.k{i} = tds_keys.k{i}" for i in range(len(spec.by))) or "TRUE"
    out = [f"tds_keys.k{i} AS {quote_identifier(c)}" for i, (c, _) in enumerate(spec.by)]
    out.append(f"count(b.tds__r) AS {COUNT}")
    sums, histograms = slots(spec)
    # Values are clamped as doubles before any cast (NaN and infinities included): no value
    # can make a cast fail, so whether a DP job fails never depends on the data.
    for (column, lower, upper), j in sums.items():
        clamped = (f"CAST(least(greatest(b.{value[column]}, {lower!r}), {upper!r}) "
                   f"AS DECIMAL(18, 6))")
        out.append(f"coalesce(sum({clamped}), 0) AS {SUM}{j}")
        out.append(f"count(b.{value[column]}) AS {N}{j}")
    for (column, lower, upper), j in histograms.items():
        width = _width(lower, upper, candidates)
        clamped = f"least(greatest(b.{value[column]}, {lower!r}), {upper!r})"
        bucket = (f"least(CAST(floor(({clamped} - {lower!r}) / {width!r}) AS INTEGER), "
                  f"{candidates - 2})")
        out.append(f"histogram({bucket}) FILTER (WHERE b.{value[column]} IS NOT NULL) "
                   f"AS {HISTOGRAM}{j}")
    order = ", ".join(f"tds_keys.k{i}" for i in range(len(spec.by)))
    # The contribution bound: a person's rows beyond c are dropped (deterministically, by row
    # number: a real job must reproduce). Without a person key each row is a person.
    bounded = (f"SELECT * FROM tds_rows QUALIFY row_number() OVER (PARTITION BY tds__p "
               f"ORDER BY tds__r) <= {spec.contributions}" if spec.per_person
               else "SELECT * FROM tds_rows")
    return (
        f"WITH tds_rows AS (\n  SELECT {', '.join(picked)}\n  FROM {table}{where}\n),\n"
        f"tds_bounded AS (\n  {bounded}\n),\n"
        f"tds_keys AS (SELECT * FROM {keys})\n"
        f"SELECT {', '.join(out)}\nFROM tds_keys LEFT JOIN tds_bounded AS b ON {joined}\n"
        f"GROUP BY ALL" + (f"\nORDER BY {order}" if order else ""))


def _opendp() -> Any:
    import opendp.prelude as dp  # here: only workers privatize, and its import takes ~0.5 s

    dp.enable_features("contrib")
    return dp


@dataclass(frozen=True)
class Plan:
    """The mechanisms of a spec, calibrated: per release its epsilon and noise scale."""

    epsilon_each: float
    count_scale: float | None
    scales: dict[str, float]  # output column -> scale (a mean: its sum's; counts share one)
    candidates: int

    def describe(self, spec: Spec) -> dict[str, Any]:
        """What the manifest and the job say of the mechanisms (no data)."""
        return {"library": f"opendp {metadata.version('opendp')}", "epsilon": spec.epsilon,
                "delta": 0.0, "composition": "sequential, pure epsilon-DP",
                "contributions": spec.contributions, "unit": "person",
                "epsilon_per_release": self.epsilon_each,
                "mechanisms": {m.name: _mechanism(m) for m in spec.measures},
                "scales": self.scales, "quantile_candidates": self.candidates}


def _mechanism(measure: Measure) -> str:
    return {"count": "discrete Laplace", "sum": "Laplace",
            "mean": "Laplace sum / discrete Laplace count",
            "quantile": "exponential mechanism (report noisy max, Gumbel)"}[measure.statistic]


def plan(spec: Spec, policy: Policy) -> Plan:
    """Calibrate every mechanism of ``spec`` with OpenDP (each scale found by binary search so
    that the mechanism's own privacy map gives its part of epsilon)."""
    dp = _opendp()
    releases = sum(m.releases for m in spec.measures)
    each = spec.epsilon / releases
    c = spec.contributions
    ints = dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64")
    floats = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l1_distance(T=float)
    try:
        count_scale = dp.binary_search_param(
            lambda s: dp.m.make_laplace(*ints, scale=s), d_in=c, d_out=each)
        scales: dict[str, float] = {}
        for m in spec.measures:
            if m.statistic in ("sum", "mean"):
                sensitivity = c * max(abs(m.lower), abs(m.upper))
                scales[m.name] = dp.binary_search_param(
                    lambda s: dp.m.make_laplace(*floats, scale=s), d_in=float(sensitivity),
                    d_out=each)
            elif m.statistic == "count":
                scales[m.name] = count_scale
            else:
                scales[m.name] = _quantile_scale(dp, m, spec, policy, each)
    except Exception as exc:  # OpenDP's own error: the figures admit no mechanism
        raise QueryRefused("no DP mechanism fits these figures: {reason}",
                           reason=str(exc).splitlines()[0][:200]) from exc
    return Plan(each, count_scale, scales, policy.privacy.quantile_candidates)


def _candidates(measure: Measure, count: int) -> list[float]:
    return [float(v) for v in np.linspace(measure.lower, measure.upper, count)]


def _quantile(dp: Any, measure: Measure, policy: Policy, scale: float) -> Any:
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()
    return dp.m.make_private_quantile(
        *space, dp.max_divergence(),
        candidates=_candidates(measure, policy.privacy.quantile_candidates),
        alpha=measure.alpha, scale=scale)


def _quantile_scale(dp: Any, measure: Measure, spec: Spec, policy: Policy,
                    each: float) -> float:
    # A person changes up to c values of a group and reaches up to min(c, groups) groups.
    per_group = each / min(spec.contributions, max(spec.cells(), 1))
    return dp.binary_search_param(lambda s: _quantile(dp, measure, policy, s),
                                  d_in=spec.contributions, d_out=per_group)


def privatize(exact: pa.Table, spec: Spec, policy: Policy) -> pa.Table:
    """The released table: the keys, and each statistic with its noise. ``exact`` (the job's
    bounded figures) is read here and nowhere else."""
    dp = _opendp()
    calibrated = plan(spec, policy)
    ints = dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64")
    floats = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l1_distance(T=float)
    sums, histograms = slots(spec)
    try:
        columns = {c: exact.column(c) for c, _ in spec.by}
        count = dp.m.make_laplace(*ints, scale=calibrated.count_scale)
        for m in spec.measures:
            key = (m.column, m.lower, m.upper)
            if m.statistic == "count":
                noisy = count(exact.column(COUNT).to_pylist())
                columns[m.name] = pa.array([max(0, int(v)) for v in noisy], pa.int64())
            elif m.statistic == "quantile":
                columns[m.name] = _quantiles(dp, m, policy, calibrated.scales[m.name],
                                             exact.column(f"{HISTOGRAM}{histograms[key]}"))
            else:
                laplace = dp.m.make_laplace(*floats, scale=calibrated.scales[m.name])
                sums_noisy = laplace([float(v) for v in
                                      exact.column(f"{SUM}{sums[key]}").to_pylist()])
                if m.statistic == "sum":
                    columns[m.name] = pa.array(sums_noisy, pa.float64())
                    continue
                counts = count(exact.column(f"{N}{sums[key]}").to_pylist())
                # Post-processing: a mean within its bounds, whatever the noise drew.
                columns[m.name] = pa.array(
                    [min(max(s / max(n, 1), m.lower), m.upper) for s, n in zip(
                        sums_noisy, counts, strict=True)], pa.float64())
    except Exception as exc:
        # Never the exact figures in a message: the class only.
        raise JobFailed("the noise could not be added to the job's figures",
                        "privacy") from exc
    return pa.table(columns)


def _quantiles(dp: Any, measure: Measure, policy: Policy, scale: float,
               histograms: pa.ChunkedArray) -> pa.Array:
    """Each group's quantile by the exponential mechanism, over its values as the midpoints
    of their intervals (:func:`statement`)."""
    count = policy.privacy.quantile_candidates
    width = _width(measure.lower, measure.upper, count)
    mechanism = _quantile(dp, measure, policy, scale)
    found = []
    for entry in histograms.to_pylist():
        pairs = dict(entry or [])
        bins = np.fromiter(pairs.keys(), dtype=float, count=len(pairs))
        values = np.repeat(measure.lower + (bins + 0.5) * width,
                           np.fromiter(pairs.values(), dtype=np.int64, count=len(pairs)))
        found.append(float(mechanism(values)))
    return pa.array(found, pa.float64())
