"""An egress request keeps its withdrawal reason (the ledger counts its characters only)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("egress_requests") as batch:
        batch.add_column(sa.Column("withdrawal_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("egress_requests") as batch:
        batch.drop_column("withdrawal_reason")
