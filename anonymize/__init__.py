"""PII detection (offline Presidio with Chinese recognizers) and de-identification."""

from anonymize.scan import ColumnScan, scan_column, scan_table, suggest_level

__all__ = ["ColumnScan", "scan_column", "scan_table", "suggest_level"]
