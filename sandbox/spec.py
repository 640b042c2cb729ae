"""What a job process is given and what it leaves behind: the tables it exposes, and the names
of its result and output files. Kept free of DuckDB and Arrow, so that the processes handing
jobs out (the CLI's ``tds sandbox run``, workers) need not load them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULT_NAME = "result.json"
OUTPUT_NAME = "output.parquet"
# The contributor of each row, in the platform's own runs for the egress checks only: the
# pseudonym of the dataset's person key, or the row's number when it has none.
PERSON_COLUMN = "tds__person"
ROW_COLUMN = "tds__row"  # ... and the row's number (source rows a cell covers, for differencing)


@dataclass(frozen=True)
class Exposure:
    """One table the job may read: a Parquet file and the columns of it that are granted.

    ``staged`` tables are copied into the grant's stage file (datasets); the others are read
    through an Arrow dataset (earlier outputs), or with ``native`` by DuckDB's own Parquet
    reader through a link in the job's directory (``tds sandbox run`` only: the files are the
    caller's own, see :mod:`sandbox.local`). ``pseudonymized`` columns are staged as keyed
    pseudonyms instead of their values. A ``person`` (staged tables of the platform's own
    check runs only) adds :data:`PERSON_COLUMN`: the pseudonym of that column, or with ""
    the row number."""

    name: str
    path: Path
    columns: tuple[str, ...]
    staged: bool = True
    pseudonymized: tuple[str, ...] = field(default=())
    person: str | None = None
    native: bool = False
    # A dataset used with consent: the Parquet file of the digests of the persons whose consent
    # covers the granted columns today, and the column whose values they digest. Only their
    # rows are staged (the digest key comes with the job's spec, never with the table).
    consent: str | None = None
    consent_column: str | None = None
    # The data key (hex) the file is encrypted with (vault); None: a plain file. It reaches the
    # job process through its spec on a pipe, never a file or an argument.
    key: str | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "columns": list(self.columns),
                "staged": self.staged, "pseudonymized": list(self.pseudonymized),
                "person": self.person, "native": self.native, "consent": self.consent,
                "consent_column": self.consent_column, "key": self.key}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Exposure:
        return cls(raw["name"], Path(raw["path"]), tuple(raw["columns"]), bool(raw["staged"]),
                   tuple(raw.get("pseudonymized", ())), raw.get("person"),
                   bool(raw.get("native", False)), raw.get("consent"),
                   raw.get("consent_column"), raw.get("key"))

    def key_bytes(self) -> bytes | None:
        return bytes.fromhex(self.key) if self.key else None

    def visible(self) -> tuple[str, ...]:
        """The columns a query over this table sees."""
        return self.columns + ((PERSON_COLUMN, ROW_COLUMN) if self.person is not None else ())
