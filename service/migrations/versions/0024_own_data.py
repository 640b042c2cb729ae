"""A merchant's own data in a grant's workspace (Measures Art. 15)

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_own_data",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("grant_id", sa.Integer(), sa.ForeignKey("catalog_grants.id"), nullable=False),
        sa.Column("org", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("schema", sa.JSON(), nullable=False),
        sa.Column("pii", sa.JSON(), nullable=False),
        sa.Column("level", sa.String(length=2), nullable=False),
        sa.Column("person_key", sa.String(length=200), nullable=True),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("preview_status", sa.String(length=20), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_sandbox_own_data_grant_id", "sandbox_own_data", ["grant_id"])
    op.create_index("ix_sandbox_own_data_org", "sandbox_own_data", ["org"])


def downgrade() -> None:
    op.drop_index("ix_sandbox_own_data_org", table_name="sandbox_own_data")
    op.drop_index("ix_sandbox_own_data_grant_id", table_name="sandbox_own_data")
    op.drop_table("sandbox_own_data")
