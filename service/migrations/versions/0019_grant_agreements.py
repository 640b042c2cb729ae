"""Grants carry their operation agreement (格式协议) and the merchant's acceptance; grants made
before agreements existed have none to accept

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_grants") as batch:
        batch.add_column(sa.Column("agreement", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("agreement_sha256", sa.String(length=64), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("agreement_accepted_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("agreement_accepted_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("catalog_grants") as batch:
        for column in ("agreement_accepted_by", "agreement_accepted_at", "agreement_sha256",
                       "agreement"):
            batch.drop_column(column)
