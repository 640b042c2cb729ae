"""How each column of a table is simulated, decided from the data's types and the PII scan."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from anonymize.scan import scan_column
from synth.identifiers import GENERATORS

IDENTIFIER_SHARE = 0.9  # a column whose values are this unique is an identifier, never sampled
DISCRETE_MAX = 20  # numbers with at most this many distinct values are modelled as categories
RARE_MAJORITY = 0.5  # text whose rows are mostly in rare categories is regenerated, not modelled


@dataclass(frozen=True)
class ColumnPlan:
    name: str
    kind: str  # pii | identifier | categorical | discrete | numerical | datetime | boolean | empty
    entity: str | None = None


def plan_columns(table: pa.Table, entities: dict[str, str | None] | None = None,
                 min_share: float = 0.3, k_min: int = 10) -> list[ColumnPlan]:
    """``entities`` are the confirmed PII entities per column (else the columns are scanned);
    categories seen fewer than ``k_min`` times are rare."""
    plans = []
    for name in table.column_names:
        column = table.column(name)
        kind_type = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        values = pc.drop_null(column)
        entity = (entities or {}).get(name) if entities is not None else \
            scan_column(name, column, 20_000, min_share).entity
        if len(values) == 0:
            plans.append(ColumnPlan(name, "empty"))
        elif entity in GENERATORS:
            plans.append(ColumnPlan(name, "pii", entity))
        elif pa.types.is_boolean(kind_type):
            plans.append(ColumnPlan(name, "boolean"))
        elif pa.types.is_date(kind_type) or pa.types.is_timestamp(kind_type):
            plans.append(ColumnPlan(name, "datetime"))
        elif (pa.types.is_string(kind_type) or pa.types.is_large_string(kind_type)
              or pa.types.is_integer(kind_type)) and \
                pc.count_distinct(values).as_py() >= IDENTIFIER_SHARE * len(values) and \
                len(values) >= 20:
            plans.append(ColumnPlan(name, "identifier", entity))
        elif pa.types.is_integer(kind_type) or pa.types.is_floating(kind_type) or \
                pa.types.is_decimal(kind_type):
            discrete = pc.count_distinct(values).as_py() <= DISCRETE_MAX
            plans.append(ColumnPlan(name, "discrete" if discrete else "numerical"))
        else:
            counts = pc.value_counts(values).field("counts").to_numpy()
            rare_rows = counts[counts < k_min].sum()
            kind = "identifier" if rare_rows > RARE_MAJORITY * len(values) else "categorical"
            plans.append(ColumnPlan(name, kind, entity))
    return plans
