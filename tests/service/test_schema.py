"""The tables the code declares are the tables the migrations make: autogenerate finds nothing
to add or drop (a table, column, index or foreign key missing on either side would one day be
dropped, or never created, by a migration written from the models)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from service.schema import metadata


def test_the_models_and_the_migrated_schema_do_not_differ(home):
    sqlite = home.store.dialect == "sqlite"

    def include(item, name, kind, reflected, other) -> bool:
        table = name if kind == "table" else getattr(getattr(item, "table", None), "name", "")
        if table.startswith("procrastinate_"):  # the job queue's own schema (its migrations)
            return False
        # the purge permits are SQLite's; PostgreSQL's trigger asks a setting instead
        return sqlite or table != "ledger_purge_permits"

    with home.store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False,
                                                               "include_object": include})
        differences = compare_metadata(context, metadata)
    assert differences == [], "\n".join(str(d) for d in differences)
