"""Alembic environment: runs on the connection the store hands over."""

from alembic import context

from service.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic revision --autogenerate` from a developer's shell
    from sqlalchemy import create_engine

    connection = create_engine(context.config.get_main_option("sqlalchemy.url")).connect()

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
