"""Run ACRO 1.0.2 on the parity tables and pin its per-cell verdicts (acro_verdicts.json).

Runs in ACRO's own environment (it pins an older pandas than ours):
    bench/.acro/bin/python tests/egress/acro_oracle.py
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import sdc_tables
from acro import ACRO

logging.disable(logging.CRITICAL)

SETTINGS = {"safe_threshold": 10, "safe_nk_n": 2, "safe_nk_k": 0.9, "safe_pratio_p": 0.1,
            "zeros_are_disclosive": True, "check_missing_values": True, "safe_dof_threshold": 10}


def main() -> None:
    frame = pd.DataFrame(sdc_tables.rows())
    out: dict[str, dict] = {"settings": SETTINGS, "acro": "1.0.2", "tables": {}}
    with tempfile.TemporaryDirectory() as tmp:
        import os
        os.chdir(tmp)
        for spec in sdc_tables.TABLES:
            name, index, columns, values, aggfunc = spec
            acro = ACRO(suppress=False)
            # ACRO cannot check missing values of a count table (it has no values column)
            acro.sdc_checks.risk_appetite.update(SETTINGS, check_missing_values=values is not None)
            kwargs = {} if values is None else {"values": frame[values], "aggfunc": aggfunc}
            acro.crosstab(frame[index], frame[columns], **kwargs)
            record = acro.results.get_index(0)
            outcome = record.outcome
            cells = {}
            for row in outcome.index:
                for col in outcome.columns:
                    text = str(outcome.loc[row, col])
                    checks = sorted(c.strip() for c in text.split(";") if c.strip() and
                                    c.strip() != "ok")
                    cells[f"{row}|{col}"] = checks
            out["tables"][name] = {"status": record.status, "cells": cells}
    target = Path(__file__).with_name("acro_verdicts.json")
    target.write_text(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                      encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
