"""Tables for the parity of our disclosure control with ACRO's: the data (pure Python, so the
ACRO oracle in its own environment generates the same rows) and the table specifications.

``acro_oracle.py`` runs ACRO 1.0.2 on them and writes ``acro_verdicts.json``; the test compares
our per-cell verdicts with those pinned there. Regenerate with
``bench/.acro/bin/python tests/egress/acro_oracle.py`` (``bench/disclosure.py`` builds that env)."""

from __future__ import annotations

import random

DISTRICTS = ["越秀", "天河", "海珠", "荔湾", "白云", "黄埔", "番禺", "从化"]
DEPARTMENTS = ["内科", "外科", "儿科", "眼科", "口腔"]
SEXES = ["男", "女"]
BANDS = ["0-17", "18-44", "45-64", "65+"]

# name, index column, columns column, values column (None: counts), aggregate (ACRO's name)
TABLES = [
    ("count_district_dept", "district", "dept", None, "count"),
    ("count_district_sex", "district", "sex", None, "count"),
    ("count_band_dept", "band", "dept", None, "count"),
    ("mean_fee_district_dept", "district", "dept", "fee", "mean"),
    ("sum_fee_district_sex", "district", "sex", "fee", "sum"),
    ("mean_balance_district_dept", "district", "dept", "balance", "mean"),
    ("sum_income_district_sex", "district", "sex", "income", "sum"),
    ("median_fee_dept_sex", "dept", "sex", "fee", "median"),
    ("max_fee_district_dept", "district", "dept", "fee", "max"),
    ("min_fee_dept_band", "dept", "band", "fee", "min"),
    ("mean_grant_band_sex", "band", "sex", "grant", "mean"),
    ("sum_claims_district_band", "district", "band", "claims", "sum"),
    ("count_district_ward", "district", "ward", None, "count"),
    ("mean_fee_district_ward", "district", "ward", "fee", "mean"),
]
SQL_FUNCTION = {"count": "count(*)", "mean": "avg({v})", "sum": "sum({v})",
                "median": "median({v})", "max": "max({v})", "min": "min({v})"}


def rows(n: int = 3000, seed: int = 11) -> dict[str, list]:
    """Columns of a visits-like table with small cells, dominant contributors, negatives,
    missing values and zeros."""
    rng = random.Random(seed)
    weights = [30, 25, 20, 10, 8, 4, 2, 1]
    data: dict[str, list] = {k: [] for k in ("district", "dept", "sex", "band", "fee",
                                             "balance", "income", "grant", "claims", "ward")}
    for i in range(n):
        district = rng.choices(DISTRICTS, weights)[0]
        dept = rng.choices(DEPARTMENTS, [40, 25, 20, 10, 5])[0]
        data["district"].append(district)
        data["dept"].append(dept)
        data["sex"].append(rng.choice(SEXES))
        data["band"].append(rng.choices(BANDS, [15, 45, 30, 10])[0])
        data["fee"].append(round(rng.lognormvariate(5, 0.6), 2))
        # negatives only in two districts: ACRO then sends just those cells to review
        data["balance"].append(round(rng.gauss(100, 50) if district in ("从化", "黄埔")
                                     else rng.uniform(1, 200), 2))
        data["income"].append(None if rng.random() < 0.02 else round(rng.uniform(1e3, 9e3), 1))
        # one very large grant per band dominates its cells
        data["grant"].append(round(rng.uniform(10, 100), 2) if i >= 8 else 1e6)
        # wards exist in a few districts only: the crosstab has empty (zero) cells
        data["ward"].append(f"W{rng.randint(1, 6)}" if district in ("从化", "黄埔") else "W0")
        data["claims"].append(0.0 if district in ("越秀", "荔湾") else float(rng.randint(0, 3)))
    return data


def sql(table: str, spec: tuple) -> str:
    _, index, columns, values, aggfunc = spec
    expression = SQL_FUNCTION[aggfunc].format(v=values)
    return (f"SELECT {index}, {columns}, {expression} AS value FROM {table} "
            f"GROUP BY {index}, {columns}")
