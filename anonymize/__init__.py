"""PII detection (offline Presidio with Chinese recognizers) and de-identification.

Presidio (and through spaCy, PyTorch when it is installed) loads only when the text analyzer is
used: column scans, operators and entity names import without it.
"""

from __future__ import annotations

from typing import Any

from anonymize.entities import ENTITIES, PERSONAL_ENTITIES

_SCAN = ("ColumnScan", "scan_column", "scan_table", "suggest_level")

__all__ = ["ENTITIES", "PERSONAL_ENTITIES", *_SCAN]


def __getattr__(name: str) -> Any:
    if name in _SCAN:
        from anonymize import scan

        return getattr(scan, name)
    raise AttributeError(f"module 'anonymize' has no attribute {name!r}")
