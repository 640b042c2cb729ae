"""Real-data jobs' errors by class (the message for operators only) and security alerts

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sandbox_jobs") as batch:
        batch.add_column(sa.Column("error_class", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("error_detail", sa.Text(), nullable=True))
        batch.add_column(sa.Column("shape", sa.String(length=32), nullable=True))
    op.create_table(
        "sandbox_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("org", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["grant_id"], ["catalog_grants.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sandbox_alerts_grant_id", "sandbox_alerts", ["grant_id"])


def downgrade() -> None:
    op.drop_index("ix_sandbox_alerts_grant_id", table_name="sandbox_alerts")
    op.drop_table("sandbox_alerts")
    with op.batch_alter_table("sandbox_jobs") as batch:
        batch.drop_column("shape")
        batch.drop_column("error_detail")
        batch.drop_column("error_class")
