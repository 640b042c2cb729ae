"""column tags of dataset versions (confirmed classification), raw columns of application items

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_dataset_versions") as batch:
        batch.add_column(sa.Column("column_tags", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("classification", sa.String(length=20), nullable=False,
                                   server_default="suggested"))
        batch.add_column(sa.Column("classified_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("classified_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("catalog_application_items") as batch:
        batch.add_column(sa.Column("raw_columns", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("catalog_application_items") as batch:
        batch.drop_column("raw_columns")
    with op.batch_alter_table("catalog_dataset_versions") as batch:
        for column in ("classified_at", "classified_by", "classification", "column_tags"):
            batch.drop_column(column)
