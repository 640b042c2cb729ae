"""Simulated previews of catalog datasets (SDV), their quality and privacy reports."""
