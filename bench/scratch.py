"""A scratch PostgreSQL database for a benchmark run."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def scratch_database(url: str | None, prefix: str = "tds_load") -> Iterator[str | None]:
    """A new, empty database on the server of ``url`` for the run, dropped after it."""
    if not url:
        yield None
        return
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        if make_url(url).get_backend_name() != "postgresql":
            raise SystemExit(f"--database-url must be a PostgreSQL URL, not {url!r}")
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        name = f"{prefix}_{os.getpid()}"
        with admin.connect() as con:
            con.execute(text(f'CREATE DATABASE "{name}"'))
    except (ArgumentError, SQLAlchemyError) as exc:
        raise SystemExit(f"cannot create the bench's database with {url!r}: "
                         f"{getattr(exc, 'orig', None) or exc}") from None
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
