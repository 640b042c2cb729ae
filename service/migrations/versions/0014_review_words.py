"""Sessions carry a one-time notice sealed by their cookie; egress requests the merchant's
context and controls text for reviewers; datasets their department, update frequency, Chinese
field names and search text; users a notice e-mail address, and how far they read their notices

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
    with op.batch_alter_table("egress_requests") as batch:
        batch.add_column(sa.Column("context", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("controls", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("catalog_datasets") as batch:
        batch.add_column(sa.Column("department", sa.String(length=200), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("update_frequency", sa.String(length=20), nullable=False,
                                   server_default="irregular"))
        batch.add_column(sa.Column("field_names", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("service_users") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    op.create_table(
        "notices_marks",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("service_users.id"), primary_key=True),
        sa.Column("read_seq", sa.Integer(), nullable=False),
        sa.Column("mailed_seq", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notices_marks")
    with op.batch_alter_table("service_users") as batch:
        batch.drop_column("email")
    with op.batch_alter_table("catalog_datasets") as batch:
        for column in ("search_text", "field_names", "update_frequency", "department"):
            batch.drop_column(column)
    with op.batch_alter_table("egress_requests") as batch:
        batch.drop_column("controls")
        batch.drop_column("context")
    with op.batch_alter_table("service_web_sessions") as batch:
        batch.drop_column("flash")
