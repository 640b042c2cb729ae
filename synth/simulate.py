"""Simulated data that looks like a table and never reuses its values.

Identifier and PII columns are not modelled: they are generated in the same format (valid check
characters) and checked against the real column. Other columns are modelled by a Gaussian
copula on a sample, after rare categories are merged into "其他" and numbers and dates are
clipped to rounded inner quantiles, so real minima, maxima and rare values are never shown.
Rows equal to a real row are dropped and drawn again.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from policies.errors import DomainError
from synth.engine import GaussianCopula, Model
from synth.identifiers import GENERATORS
from synth.plan import ColumnPlan, plan_columns

OTHER = "其他"
KIND = "sdv-gaussian-copula"
LABEL = "simulated data (SDV Gaussian copula): looks like the data, holds none of its values"
MODELLED = {"categorical": "categorical", "discrete": "categorical", "numerical": "numerical",
            "datetime": "datetime", "boolean": "boolean"}
_CJK = "数据城市服务公共管理中心平台信息开放共享发展科技交通医疗教育环境文化经济社会"


class SynthError(DomainError):
    kind = "invalid"


@dataclass
class Options:
    rows: int
    k_min: int = 10
    fit_rows: int = 50_000
    holdout_share: float = 0.2
    seed: int = 0
    low_quantile: float = 0.01
    max_attempts: int = 20


def _round_sig(value: float, digits: int = 2, up: bool = False) -> float:
    if value == 0 or not math.isfinite(value):
        return 0.0
    scale = 10 ** (digits - 1 - math.floor(math.log10(abs(value))))
    return (math.ceil if up else math.floor)(value * scale) / scale


def _shape_of(value: str, rng: random.Random) -> str:
    """A new value of the same shape: digits, letters and Chinese characters replaced."""
    out = []
    for ch in value:
        if ch.isdigit():
            out.append(str(rng.randrange(10)))
        elif "A" <= ch <= "Z":
            out.append(chr(65 + rng.randrange(26)))
        elif "a" <= ch <= "z":
            out.append(chr(97 + rng.randrange(26)))
        elif "\u4e00" <= ch <= "\u9fff":
            out.append(rng.choice(_CJK))
        else:
            out.append(ch)
    return "".join(out)


def _fresh(real: set[str], rows: int, make, rng: random.Random, attempts: int) -> list[str]:
    """``rows`` generated values, none of them in ``real`` and no two alike."""
    out: list[str] = []
    seen: set[str] = set()
    for _ in range(rows * attempts):
        if len(out) == rows:
            break
        value = make(rng)
        if value not in real and value not in seen:
            seen.add(value)
            out.append(value)
    if len(out) < rows:
        raise SynthError("could not generate enough values unlike the real ones")
    return out


def simulate(table: pa.Table, options: Options, data_dir: Path,
             entities: dict[str, str | None] | None = None) -> tuple[pa.Table, dict[str, Any]]:
    """``options.rows`` simulated rows with the columns and types of ``table``, and a report."""
    started = time.perf_counter()
    if table.num_rows == 0:
        raise SynthError("the table has no rows to learn from")
    rng = np.random.default_rng(options.seed)
    pyrng = random.Random(options.seed)
    plans = plan_columns(table, entities, k_min=options.k_min)
    fit_index = np.sort(rng.choice(table.num_rows, min(options.fit_rows, table.num_rows),
                                   replace=False))
    sample = table.take(pa.array(fit_index))
    holdout_n = max(1, int(len(fit_index) * options.holdout_share)) if len(fit_index) > 10 else 0
    order = rng.permutation(len(fit_index))
    train = sample.take(pa.array(order[holdout_n:])) if holdout_n else sample
    holdout = sample.take(pa.array(order[:holdout_n])) if holdout_n else None

    modelled = [p for p in plans if p.kind in MODELLED]
    frame, bounds = _training_frame(train, modelled, options)
    model: Model | None = None
    if modelled:
        model = GaussianCopula(data_dir, seed=options.seed)
        model.fit(frame, {p.name: MODELLED[p.kind] for p in modelled})
    real_rows = _row_hashes(table)
    # The real values of generated columns, read once: every draw checks against them.
    real_values = {p.name: set(pc.cast(pc.drop_null(table.column(p.name)), pa.string())
                               .to_pylist()) for p in plans if p.kind in ("pii", "identifier")}
    out = _draw(table, plans, model, bounds, options, pyrng, real_values)
    matches = 0
    for _ in range(options.max_attempts):
        same = _row_hashes(out).isin(real_rows).to_numpy()
        if not same.any():
            break
        matches += int(same.sum())
        keep = out.filter(pa.array(~same))
        more = _draw(table, plans, model, bounds, Options(**{**options.__dict__,
                                                             "rows": int(same.sum())}), pyrng,
                     real_values)
        out = pa.concat_tables([keep, more])
    else:
        # Every row the model draws may exist for real (a table of few combinations): such
        # rows are dropped rather than shown, and the preview is shorter.
        out = out.filter(pa.array(~_row_hashes(out).isin(real_rows).to_numpy()))
    report = _report(table, real_rows, train, holdout, out, plans, modelled, data_dir,
                     _learned(frame, modelled))
    report.update(rows=out.num_rows, fit_rows=train.num_rows, holdout_rows=holdout_n,
                  rows_redrawn=matches, seconds=round(time.perf_counter() - started, 2),
                  columns={p.name: {"kind": p.kind, "entity": p.entity} for p in plans},
                  kind=KIND, label=LABEL)
    metadata = {b"tds.preview.kind": KIND.encode(), b"tds.preview.label": LABEL.encode()}
    return out.replace_schema_metadata(metadata), report


def _training_frame(train: pa.Table, modelled: list[ColumnPlan], options: Options
                    ) -> tuple[pd.DataFrame, dict[str, Any]]:
    frame = pd.DataFrame(index=range(train.num_rows))
    bounds: dict[str, Any] = {}
    for plan in modelled:
        column = train.column(plan.name)
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        if plan.kind in ("categorical", "discrete"):
            values = pd.Series(pc.cast(column, pa.string()).to_pylist(), dtype="object")
            counts = values.value_counts()
            rare = set(counts[counts < options.k_min].index)
            # Rare text becomes "其他"; a rare number has no neutral stand-in and becomes null.
            merged = OTHER if plan.kind == "categorical" else None
            frame[plan.name] = values.where(~values.isin(rare) | values.isna(), merged)
            bounds[plan.name] = set(frame[plan.name].dropna()) | ({OTHER} if merged else set())
        elif plan.kind == "numerical":
            values = pd.Series(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
            low = _round_sig(float(values.quantile(options.low_quantile)))
            high = _round_sig(float(values.quantile(1 - options.low_quantile)), up=True)
            bounds[plan.name] = (low, high)
            frame[plan.name] = values.clip(low, high)
        elif plan.kind == "datetime":
            values = pd.to_datetime(pd.Series(column.to_pylist()))
            low = values.quantile(options.low_quantile)
            high = values.quantile(1 - options.low_quantile)
            low = pd.Timestamp(low.year, low.month, 1) if pd.notna(low) else low
            high = (pd.Timestamp(high.year, high.month, 1) + pd.offsets.MonthEnd(0)) \
                if pd.notna(high) else high
            bounds[plan.name] = (low, high)
            frame[plan.name] = values.clip(low, high)
        else:
            frame[plan.name] = pd.Series(column.to_pylist(), dtype="boolean").astype(object)
    return frame, bounds


def _draw(table: pa.Table, plans: list[ColumnPlan], model: Model | None, bounds: dict[str, Any],
          options: Options, rng: random.Random, real_values: dict[str, set[str]]) -> pa.Table:
    rows = options.rows
    drawn = model.sample(rows) if model is not None and rows else pd.DataFrame()
    arrays = []
    for plan, field in zip(plans, table.schema, strict=True):
        target = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if plan.kind in ("pii", "identifier"):
            real = real_values[plan.name]
            if plan.kind == "pii":
                make = GENERATORS[plan.entity]
            else:
                shapes = list(real)[:10_000] or ["0"]
                def make(r: random.Random, shapes=shapes) -> str:
                    return _shape_of(r.choice(shapes), r)
            values = _fresh(real, rows, make, rng, options.max_attempts)
            array = pa.array(values, pa.string())
            if pa.types.is_integer(target):
                array = pa.array([int(v) if v.lstrip("-").isdigit() else None for v in values])
        elif plan.kind == "empty":
            array = pa.nulls(rows, target)
        else:
            series = drawn[plan.name] if plan.name in drawn else pd.Series([None] * rows)
            if plan.kind == "numerical":
                low, high = bounds[plan.name]
                numbers = pd.to_numeric(series, errors="coerce").clip(low, high)
                numbers = numbers.round() if pa.types.is_integer(target) else numbers.round(2)
                array = pa.array(numbers.to_numpy(), pa.float64(), from_pandas=True)
            elif plan.kind == "datetime":
                low, high = bounds[plan.name]
                stamps = pd.to_datetime(series, errors="coerce").clip(low, high)
                array = pa.array(stamps, pa.timestamp("us"), from_pandas=True)
            elif plan.kind == "boolean":
                array = pa.array([None if pd.isna(v) else bool(v) for v in series], pa.bool_())
            else:
                allowed = bounds[plan.name]
                fallback = OTHER if plan.kind == "categorical" else None
                array = pa.array([v if isinstance(v, str) and v in allowed else
                                  (None if pd.isna(v) else fallback) for v in series], pa.string())
                if plan.kind == "discrete":
                    array = pc.cast(array, pa.float64())
        arrays.append(_cast(array, target))
    return pa.Table.from_arrays(arrays, schema=pa.schema(
        [pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
         for f in table.schema]))


def _cast(array: pa.Array, target: pa.DataType) -> pa.Array:
    if array.type == target:
        return array
    if pa.types.is_date(target) and pa.types.is_timestamp(array.type):
        return pc.cast(array, pa.date32()).cast(target)
    try:
        return pc.cast(array, target, safe=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.nulls(len(array), target)


def _row_hashes(table: pa.Table) -> pd.Series:
    frame = pd.DataFrame({n: pc.cast(table.column(n), pa.string()).to_pylist()
                          for n in table.column_names})
    return pd.util.hash_pandas_object(frame, index=False)


def _frame(table: pa.Table, names: list[str]) -> pd.DataFrame:
    out = {}
    for name in names:
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
            out[name] = pd.to_datetime(column.to_pandas()).astype("datetime64[ns]")
        else:
            out[name] = column.to_pandas()
    return pd.DataFrame(out)


def _learned(frame: pd.DataFrame, modelled: list[ColumnPlan]) -> pd.DataFrame:
    """The training data as the model saw it, in the types of the synthetic frame."""
    out = frame.copy()
    for plan in modelled:
        if plan.kind == "discrete":
            out[plan.name] = pd.to_numeric(out[plan.name], errors="coerce")
        elif plan.kind == "datetime":
            out[plan.name] = pd.to_datetime(out[plan.name]).astype("datetime64[ns]")
    return out


def _report(real: pa.Table, real_rows: pd.Series, train: pa.Table, holdout: pa.Table | None,
            synthetic: pa.Table,
            plans: list[ColumnPlan], modelled: list[ColumnPlan], data_dir: Path,
            learned: pd.DataFrame) -> dict[str, Any]:
    """Leak counts against the whole real table; quality against the data the model learned
    (rare categories merged, extremes clipped: the distribution a preview may show)."""
    reused = 0
    for plan in plans:
        if plan.kind in ("pii", "identifier"):
            real_values = pc.cast(pc.drop_null(real.column(plan.name)), pa.string())
            mine = pc.cast(synthetic.column(plan.name), pa.string())
            reused += int(pc.sum(pc.is_in(mine, value_set=real_values)).as_py() or 0)
    exact = int(_row_hashes(synthetic).isin(real_rows).sum())
    report: dict[str, Any] = {"exact_row_matches": exact, "reused_identifier_values": reused,
                              "quality": None, "column_shapes": None, "column_pair_trends": None,
                              "dcr": None}
    names = [p.name for p in modelled]
    if not names or synthetic.num_rows < 2:
        return report
    metadata = GaussianCopula(data_dir).metadata({p.name: MODELLED[p.kind] for p in modelled})
    table_meta = metadata["tables"][GaussianCopula.TABLE]
    real_frame, synth_frame = learned[names], _frame(synthetic, names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

        quality = QualityReport()
        quality.generate(real_frame, synth_frame, table_meta, verbose=False)
        properties = quality.get_properties().set_index("Property")["Score"].to_dict()
        shapes = float(properties.get("Column Shapes", float("nan")))
        pairs = float(properties.get("Column Pair Trends", float("nan")))
        if math.isnan(pairs):  # SDMetrics gives NaN for some mixed-type tables
            pairs = _pair_trends(real_frame, synth_frame)
        scores = [x for x in (shapes, pairs) if not math.isnan(x)]
        report.update(quality=round(sum(scores) / len(scores), 4) if scores else None,
                      column_shapes=None if math.isnan(shapes) else round(shapes, 4),
                      column_pair_trends=None if math.isnan(pairs) else round(pairs, 4))
        if holdout is not None and holdout.num_rows:
            from sdmetrics.single_table import DCROverfittingProtection

            breakdown = DCROverfittingProtection.compute_breakdown(
                real_frame, synth_frame, _frame(holdout, names), metadata,
                GaussianCopula.TABLE,
                num_rows_subsample=min(1000, synthetic.num_rows, holdout.num_rows))
            report["dcr"] = _plain(breakdown)
    return report


def _binned(frame: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Numbers and dates in the reference's decile bins; categories as they are."""
    out = {}
    for name in frame.columns:
        column, ref = frame[name], reference[name]
        if pd.api.types.is_numeric_dtype(ref) or pd.api.types.is_datetime64_any_dtype(ref):
            as_number = ref.astype("int64") if pd.api.types.is_datetime64_any_dtype(ref) else ref
            edges = np.unique(np.nanquantile(as_number.dropna().astype(float),
                                             np.linspace(0, 1, 11)))
            values = column.astype("int64") if pd.api.types.is_datetime64_any_dtype(column) \
                else column
            out[name] = pd.Series(np.digitize(values.astype(float), edges[1:-1]),
                                  index=frame.index).astype(str)
        else:
            out[name] = column.astype(str)
    return pd.DataFrame(out)


def _pair_trends(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """SDMetrics' contingency similarity over every pair of columns (numbers binned)."""
    from sdmetrics.column_pairs import ContingencySimilarity

    real_b, synth_b = _binned(real, real), _binned(synthetic, real)
    names = list(real.columns)
    scores = [ContingencySimilarity.compute(real_b[[a, b]], synth_b[[a, b]])
              for i, a in enumerate(names) for b in names[i + 1:]]
    return float(np.mean(scores)) if scores else float("nan")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, float | np.floating):
        return round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (dt.date, pd.Timestamp)):
        return str(value)
    return value
