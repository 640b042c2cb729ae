"""Assertions shared by tests: a refused action changes nothing."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, text

from lineage import LedgerEvent
from policies import DomainError


def snapshot(home) -> dict[str, int]:
    tables = ["ledger_events", "catalog_datasets", "catalog_dataset_versions",
              "catalog_applications", "catalog_application_checks",
              "catalog_application_attachments", "catalog_grants", "sandbox_jobs", "egress_requests",
              "egress_releases", "service_users", "commerce_products",
              "commerce_price_proposals", "commerce_bookings", "catalog_consents",
              "service_qualifications", "sandbox_own_data"]
    with home.store.read() as s:
        counts = {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}
        counts["head"] = s.scalar(select(func.max(LedgerEvent.seq))) or 0
    files = sorted(p.relative_to(home.root) for p in home.root.rglob("*")
                   if p.is_file() and "ledger" not in p.parts and p.suffix != ".sqlite3"
                   and not p.name.startswith("tds.sqlite3"))
    counts["files"] = len(files)
    return counts


@contextmanager
def refused(home, match: str, kind: str | None = None):
    """The block raises a DomainError matching ``match`` and leaves no trace."""
    before = snapshot(home)
    with pytest.raises(DomainError, match=match) as info:
        yield info
    if kind:
        assert info.value.kind == kind
    assert snapshot(home) == before


def set_policy(home, **values: str) -> None:
    """Change settings of the home's policy file (values as TOML literals) and reload it."""
    lines = home.policy_path.read_text(encoding="utf-8").splitlines()
    for key, value in values.items():
        assert any(line.startswith(f"{key} ") for line in lines), key
        lines = [f"{key} = {value}" if line.startswith(f"{key} ") else line for line in lines]
    home.policy_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    home.__dict__.pop("policy", None)


def run_offline(program: str, *args: str, timeout: float = 300,
                env: dict[str, str] | None = None):
    """Run ``program`` in a fresh Python process where every socket connection fails."""
    import subprocess
    import sys

    guard = ("import socket\n"
             "def _refuse(*args, **kwargs):\n"
             "    raise OSError('network access attempted')\n"
             "socket.socket.connect = _refuse\n"
             "socket.socket.connect_ex = _refuse\n"
             "socket.create_connection = _refuse\n"
             "socket.getaddrinfo = _refuse\n")
    return subprocess.run([sys.executable, "-c", guard + program, *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def read_stored(home, path, **options):
    """A Parquet file the platform keeps, read as the platform reads it: decrypted with
    whichever live data key of the store opens it (plain files read as they are)."""
    from pathlib import Path

    from vault import keys
    from vault.files import is_encrypted, read_table

    path = Path(path)
    if not path.is_absolute():
        path = home.data.fetch(str(path))
    if not is_encrypted(path):
        return read_table(path, None, **options)
    with home.store.read() as s:
        candidates = [keys.get(s, k.scope, k.scope_id) for k in keys.listed(s)
                      if k.wrapped is not None]
    for key in candidates:
        try:
            return read_table(path, key, **options)
        except DomainError:
            continue
    raise AssertionError(f"no live data key opens {path}")
