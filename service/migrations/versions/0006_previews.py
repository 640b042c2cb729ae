"""simulated previews of dataset versions: status, failure reason, report

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_dataset_versions") as batch:
        batch.add_column(sa.Column("preview_status", sa.String(length=20), nullable=False,
                                   server_default="pending"))
        batch.add_column(sa.Column("preview_error", sa.Text(), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("preview_report", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("preview_built_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("catalog_dataset_versions") as batch:
        for column in ("preview_built_at", "preview_report", "preview_error", "preview_status"):
            batch.drop_column(column)
