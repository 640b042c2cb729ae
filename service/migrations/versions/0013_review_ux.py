"""Applications count their amendments (退回补正); console forms carry one-use keys

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_applications") as batch:
        batch.add_column(sa.Column("amendments", sa.Integer(), nullable=False,
                                   server_default="0"))
    op.create_table(
        "service_form_keys",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=True),
    )
    op.create_index("ix_service_form_keys_created_at", "service_form_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_service_form_keys_created_at", table_name="service_form_keys")
    op.drop_table("service_form_keys")
    with op.batch_alter_table("catalog_applications") as batch:
        batch.drop_column("amendments")
