"""Jobs dispatched by a queue: each job's delivery id, and on PostgreSQL the queue's own tables
(procrastinate's schema, owned by the ``workers`` package)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sandbox_jobs") as batch:
        batch.add_column(sa.Column("dispatch_id", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        from workers.queue import schema_sql

        # On the driver's connection: the script's '%' are not parameters.
        op.get_bind().connection.driver_connection.execute(schema_sql())


def downgrade() -> None:
    with op.batch_alter_table("sandbox_jobs") as batch:
        batch.drop_column("dispatch_id")
