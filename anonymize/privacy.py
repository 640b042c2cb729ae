"""Privacy models of a table: k-anonymity, l-diversity, entropy l-diversity, t-closeness and
re-identification risk, computed in DuckDB (one pass per measure, never row by row).

k, l, entropy-l and t follow pyCANON's definitions (``pycanon.anonymity``):

- ``k``: the size of the smallest equivalence class (rows sharing all quasi-identifiers);
- ``l``: the fewest distinct sensitive values in a class;
- ``entropy_l``: ``floor(min over classes of exp(H))``, H the natural-log entropy of the
  sensitive values in the class. pyCANON computes ``int(e ** H)`` in floating point, which
  gives 1 instead of 2 for a class with two equally frequent values (e ** ln 2 is
  1.9999999999999998); here the floor is taken after rounding to 9 decimals, and the unrounded
  value is reported as ``entropy_l_value``;
- ``t``: the largest Earth Mover's Distance between a class's sensitive distribution and the
  table's: for numeric attributes the ordered distance (1/(m-1)) * sum |cumulative difference|
  over the m distinct values in order, otherwise the equal distance 0.5 * sum |difference|.

Unlike pandas' group-by under pyCANON, a missing quasi-identifier value is a value of its own:
rows are never left out of the classes (leaving them out would understate the risk).

Re-identification risk (prosecutor, journalist, marketer) follows El Emam and ARX with the table
as its own population (no population table is given): the prosecutor's highest risk is 1/k
and their average risk is classes/rows, the share of records at the highest risk is reported,
the journalist's risk equals the prosecutor's, and the marketer's is classes/rows.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from anonymize.errors import AnonymizeError


class PrivacyError(AnonymizeError):
    pass


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _source(con: duckdb.DuckDBPyConnection, data: Path | pa.Table) -> None:
    """Make ``data`` the view ``src`` of ``con``."""
    if isinstance(data, pa.Table):
        con.register("src_table", data)
        con.execute("CREATE VIEW src AS SELECT * FROM src_table")
        return
    path = Path(data)
    if not path.is_file():
        raise PrivacyError("no such file: {path}", path=path)
    suffix = path.suffix.lower()
    literal = "'" + str(path).replace("'", "''") + "'"
    if suffix in (".parquet", ".pq"):
        reader = f"read_parquet({literal})"
    elif suffix in (".csv", ".tsv", ".txt"):
        reader = f"read_csv({literal}, header = true, sample_size = -1)"
    else:
        raise PrivacyError("{name}: only Parquet or CSV files can be measured", name=path.name)
    try:
        con.execute(f"CREATE VIEW src AS SELECT * FROM {reader}")
        con.execute("SELECT * FROM src LIMIT 0")
    except duckdb.Error as exc:
        raise PrivacyError("{name} cannot be read: {reason}",
                           name=path.name, reason=str(exc).splitlines()[0]) from exc


def measure(data: Path | pa.Table, quasi_identifiers: list[str], sensitive: str | None = None,
            k_min: int = 5, threads: int | None = None) -> dict[str, Any]:
    """The privacy models of ``data`` for ``quasi_identifiers`` (and ``sensitive``)."""
    if not quasi_identifiers:
        raise PrivacyError("name at least one quasi-identifier")
    if len(set(quasi_identifiers)) != len(quasi_identifiers):
        raise PrivacyError("each quasi-identifier may be named once")
    if sensitive is not None and sensitive in quasi_identifiers:
        raise PrivacyError("{sensitive!r} cannot be both quasi-identifier and sensitive",
                           sensitive=sensitive)
    config = {"threads": threads} if threads else {}
    con = duckdb.connect(":memory:", config=config)
    try:
        _source(con, data)
        columns = {row[0]: row[1] for row in con.execute("DESCRIBE src").fetchall()}
        for name in [*quasi_identifiers, *([sensitive] if sensitive else [])]:
            if name not in columns:
                raise PrivacyError("no column {name!r} (columns: {columns})",
                                   name=name, columns=', '.join(columns))
        return _measure(con, quasi_identifiers, sensitive, columns, k_min)
    finally:
        con.close()


def _measure(con: duckdb.DuckDBPyConnection, qis: list[str], sensitive: str | None,
             columns: dict[str, str], k_min: int) -> dict[str, Any]:
    keys = ", ".join(_quote(q) for q in qis)
    rows = con.execute("SELECT count(*) FROM src").fetchone()[0]
    if rows == 0:
        raise PrivacyError("the table has no rows")
    # Equivalence classes with an id; everything else is computed from these small tables.
    con.execute(f"CREATE TEMP TABLE classes AS SELECT {keys}, count(*) AS n, "
                f"row_number() OVER () AS cid FROM src GROUP BY ALL")
    k, classes, below, at_k = con.execute(
        "SELECT min(n), count(*), coalesce(sum(n) FILTER (WHERE n < ?), 0), "
        "sum(n) FILTER (WHERE n = (SELECT min(n) FROM classes)) FROM classes", [k_min]).fetchone()
    report: dict[str, Any] = {
        "rows": rows, "quasi_identifiers": qis, "sensitive": sensitive, "k": k,
        "equivalence_classes": classes, "k_min": k_min, "rows_below_k_min": below,
        "risk": {
            "prosecutor": {"highest": 1 / k, "average": classes / rows,
                           "records_at_highest_risk": at_k / rows},
            "journalist": {"highest": 1 / k, "average": classes / rows,
                           "population": "the table itself"},
            "marketer": {"average": classes / rows},
        },
    }
    if sensitive is None:
        return report
    s = _quote(sensitive)
    on = " AND ".join(f"c.{_quote(q)} IS NOT DISTINCT FROM v.{_quote(q)}" for q in qis)
    con.execute(f"CREATE TEMP TABLE cv AS SELECT c.cid, v.value, v.cnt, c.n FROM "
                f"(SELECT {keys}, {s} AS value, count(*) AS cnt FROM src GROUP BY ALL) v "
                f"JOIN classes c ON {on}")
    l_div, entropy = con.execute(
        "SELECT min(d), min(h) FROM (SELECT cid, count(*) AS d, "
        "-sum((cnt / n) * ln(cnt / n)) AS h FROM cv GROUP BY cid)").fetchone()
    value = math.exp(entropy)
    report.update(l=l_div, entropy_l=math.floor(round(value, 9)), entropy_l_value=value)
    numeric = _is_numeric(columns[sensitive])
    report["t"] = _t_numeric(con, rows) if numeric else _t_categorical(con, rows)
    report["t_distance"] = "ordered" if numeric else "equal"
    return report


def _is_numeric(duckdb_type: str) -> bool:
    base = duckdb_type.split("(")[0].upper()
    return base in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                    "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE",
                    "DECIMAL", "REAL"}


def _t_categorical(con: duckdb.DuckDBPyConnection, rows: int) -> float:
    # 0.5 * sum over all values |q - p|; values absent from a class contribute p each, so
    # sum = sum over present (|q - p| - p) + 1.
    return con.execute(f"""
        WITH p AS (SELECT value, sum(cnt) / {rows} AS p FROM cv GROUP BY value)
        SELECT max(e) FROM (
            SELECT cid, 0.5 * (sum(abs(cnt / n - p.p) - p.p) + 1) AS e
            FROM cv JOIN p USING (value) GROUP BY cid)""").fetchone()[0]


def _t_numeric(con: duckdb.DuckDBPyConnection, rows: int) -> float:
    m = con.execute("SELECT count(DISTINCT value) FROM cv").fetchone()[0]
    if m < 2:
        return 0.0
    return con.execute(f"""
        WITH p AS (SELECT value, sum(cnt) / {rows} AS p,
                          row_number() OVER (ORDER BY value) AS i FROM cv GROUP BY value),
        ids AS (SELECT DISTINCT cid, n FROM cv),
        grid AS (
            SELECT ids.cid, p.i, coalesce(cv.cnt, 0) / ids.n - p.p AS r
            FROM ids CROSS JOIN p
            LEFT JOIN cv ON cv.cid = ids.cid AND cv.value = p.value),
        cum AS (SELECT cid, abs(sum(r) OVER (PARTITION BY cid ORDER BY i)) AS a FROM grid)
        SELECT max(e) FROM (SELECT cid, sum(a) / {m - 1} AS e FROM cum GROUP BY cid)
    """).fetchone()[0]
