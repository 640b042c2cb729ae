"""Workspaces and jobs: the locked DuckDB connection, scoping to granted columns, limits."""
