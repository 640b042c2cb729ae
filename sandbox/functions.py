"""De-identification functions a job's SQL may call, registered before the connection is locked.

Each is a vectorized (Arrow) DuckDB function over one of ``anonymize.operators``:

- ``tds_pseudonym(text)``: keyed pseudonym, stable within the grant, unlinkable across grants
- ``tds_mask(text, keep_first, keep_last)``
- ``tds_age_band(age, width)``
- ``tds_generalize_date(date, 'year' | 'quarter' | 'month')``
- ``tds_region(code_or_resident_id, 'province' | 'city' | 'county')``
- ``tds_address_region(address, 'province' | 'city')``
- ``tds_redact(text, 'replace' | 'pseudonym')``: identifiers in free text replaced by ``<ENTITY>``
  or by a keyed tag ``<ENTITY:1c65966f>`` (Presidio's anonymizer)
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from anonymize import operators
from anonymize.errors import OperatorError

NAMES = ("tds_pseudonym", "tds_mask", "tds_age_band", "tds_generalize_date", "tds_region",
         "tds_address_region", "tds_redact")


def _constant(values: pa.Array, name: str):
    """The one value a parameter column holds: these parameters are not per-row."""
    distinct = pc.unique(values.drop_null()).to_pylist()
    if len(distinct) != 1:
        raise OperatorError("the {name} argument must be one constant value", name=name)
    return distinct[0]


def _guarded(fn: Callable[..., pa.Array]) -> Callable[..., pa.Array]:
    @functools.wraps(fn)  # DuckDB reads the parameter count from the signature
    def call(*arrays: pa.Array) -> pa.Array:
        try:
            return fn(*arrays)
        except OperatorError as exc:
            # DuckDB reports the exception text; keep it to the operator's own message.
            raise ValueError(exc.message) from None
    return call


def _redact(values: pa.Array, mode: str, key: Callable[[], bytes]) -> pa.Array:
    from anonymize.text import redact  # loads the text analyzer only for jobs that use it

    return redact(values, mode, key() if mode == "pseudonym" else None)


def register(con: duckdb.DuckDBPyConnection, pseudonym_key: bytes | Callable[[], bytes]) -> None:
    """Add the functions to ``con`` (before its configuration is locked). The key may be given
    later, as a callable, when the connection is made before the job is known."""
    key = pseudonym_key if callable(pseudonym_key) else (lambda: pseudonym_key)
    specs = [
        ("tds_pseudonym", lambda v: operators.pseudonymize(v, key()),
         ["VARCHAR"], "VARCHAR"),
        ("tds_mask", lambda v, first, last: operators.mask(
            v, int(_constant(first, "keep_first")), int(_constant(last, "keep_last"))),
         ["VARCHAR", "INTEGER", "INTEGER"], "VARCHAR"),
        ("tds_age_band", lambda v, width: operators.age_band(v, int(_constant(width, "width"))),
         ["BIGINT", "INTEGER"], "VARCHAR"),
        ("tds_generalize_date", lambda v, unit: operators.generalize_date(
            v, str(_constant(unit, "unit"))), ["DATE", "VARCHAR"], "VARCHAR"),
        ("tds_region", lambda v, level: operators.generalize_region_code(
            v, str(_constant(level, "level"))), ["VARCHAR", "VARCHAR"], "VARCHAR"),
        ("tds_address_region", lambda v, level: operators.generalize_address(
            v, str(_constant(level, "level"))), ["VARCHAR", "VARCHAR"], "VARCHAR"),
        ("tds_redact", lambda v, mode: _redact(v, str(_constant(mode, "mode")), key),
         ["VARCHAR", "VARCHAR"], "VARCHAR"),
    ]
    for name, fn, parameters, returns in specs:
        con.create_function(name, _guarded(fn), [duckdb.sqltype(str(p)) for p in parameters],
                            duckdb.sqltype(returns), type="arrow", side_effects=False)
