"""The catalog of data resources, usage applications and grants."""
