"""Differentially private jobs: their specification and the epsilon they spent

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sandbox_jobs") as batch:
        batch.add_column(sa.Column("dp", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("dp_epsilon", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sandbox_jobs") as batch:
        batch.drop_column("dp_epsilon")
        batch.drop_column("dp")
