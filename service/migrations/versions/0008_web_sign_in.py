"""web console sign-in: password hashes and server-side sessions

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_users") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.create_table(
        "service_web_sessions",
        sa.Column("id_hash", sa.String(length=64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("service_users.id"), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_service_web_sessions_user", "service_web_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_service_web_sessions_user", "service_web_sessions")
    op.drop_table("service_web_sessions")
    with op.batch_alter_table("service_users") as batch:
        batch.drop_column("password_hash")
