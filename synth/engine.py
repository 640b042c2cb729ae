"""The model behind simulated data, behind a small interface so another engine can replace
SDV (which is under the Business Source License: no synthetic-data service for third parties).

SDV and PyTorch are imported only when a model is fitted; SDV's logger configuration goes
under ``data_dir`` (it would otherwise write into the user's home directory)."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pandas as pd


class Model(Protocol):
    def fit(self, frame: pd.DataFrame, sdtypes: dict[str, str]) -> None: ...

    def sample(self, rows: int) -> pd.DataFrame: ...


@contextlib.contextmanager
def _data_dir(path: Path) -> Iterator[None]:
    path.mkdir(parents=True, exist_ok=True)
    before = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(path)  # platformdirs: where SDV keeps its logger config
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("XDG_DATA_HOME", None)
        else:
            os.environ["XDG_DATA_HOME"] = before


class GaussianCopula:
    """SDV's GaussianCopulaSynthesizer with metadata we give it (never its auto-detection)."""

    TABLE = "data"

    def __init__(self, data_dir: Path, seed: int = 0) -> None:
        self.data_dir, self.seed = data_dir, seed
        self._model: Any = None
        self._draws = 0

    def metadata(self, sdtypes: dict[str, str]) -> dict[str, Any]:
        columns = {}
        for name, sdtype in sdtypes.items():
            columns[name] = {"sdtype": sdtype}
            if sdtype == "datetime":
                columns[name]["datetime_format"] = "%Y-%m-%d %H:%M:%S"
        return {"tables": {self.TABLE: {"columns": columns}}, "METADATA_SPEC_VERSION": "V1"}

    def fit(self, frame: pd.DataFrame, sdtypes: dict[str, str]) -> None:
        with _data_dir(self.data_dir), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from sdv.metadata import Metadata
            from sdv.single_table import GaussianCopulaSynthesizer

            metadata = Metadata.load_from_dict(self.metadata(sdtypes))
            # Real minima and maxima are not enforced: the caller clips to inner quantiles.
            self._model = GaussianCopulaSynthesizer(metadata, enforce_min_max_values=False)
            self._model.fit({self.TABLE: frame})

    def sample(self, rows: int) -> pd.DataFrame:
        with _data_dir(self.data_dir), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import numpy as np

            # SDV samples from numpy's global generator: reproducible, yet each draw is new.
            np.random.seed(self.seed + self._draws)
            self._draws += 1
            drawn = self._model.sample(num_rows=rows)
            return drawn[self.TABLE] if isinstance(drawn, dict) else drawn
