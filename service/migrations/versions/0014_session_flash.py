"""Console sessions carry a one-time notice sealed with the session's cookie

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_web_sessions") as batch:
        batch.add_column(sa.Column("flash", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_web_sessions") as batch:
        batch.drop_column("flash")
