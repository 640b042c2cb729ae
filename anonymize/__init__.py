"""PII detection (offline Presidio with Chinese recognizers) and de-identification."""

from anonymize.recognizers import ENTITIES, PERSONAL_ENTITIES
from anonymize.scan import ColumnScan, scan_column, scan_table, suggest_level

__all__ = ["ENTITIES", "PERSONAL_ENTITIES", "ColumnScan", "scan_column", "scan_table",
           "suggest_level"]
