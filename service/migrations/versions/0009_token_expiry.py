"""API tokens expire: the time each user's current token was issued

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_users") as batch:
        # NULL for tokens issued before expiry existed: they count from the user's creation.
        batch.add_column(sa.Column("token_issued_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_users") as batch:
        batch.drop_column("token_issued_at")
