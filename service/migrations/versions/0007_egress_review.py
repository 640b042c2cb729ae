"""egress review workflow: rounds, deadlines, exceptions, mitigation, checklists, overrides

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("egress_requests") as batch:
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("deadline", sa.Date(), nullable=True))
        batch.add_column(sa.Column("escalated", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("exceptions", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("mitigation", sa.String(length=20), nullable=False,
                                   server_default="none"))
        batch.add_column(sa.Column("mitigated_path", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("submitted_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_egress_requests_deadline", ["status", "deadline"])
    with op.batch_alter_table("egress_reviews") as batch:
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("private_comment", sa.Text(), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("checklist", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("overrides", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("egress_reviews") as batch:
        for column in ("overrides", "checklist", "private_comment", "round"):
            batch.drop_column(column)
    with op.batch_alter_table("egress_requests") as batch:
        batch.drop_index("ix_egress_requests_deadline")
        for column in ("updated_at", "submitted_at", "mitigated_path", "mitigation",
                       "exceptions", "escalated", "deadline", "round"):
            batch.drop_column(column)
