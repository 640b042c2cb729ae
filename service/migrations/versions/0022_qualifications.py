"""Qualification of operating organizations (Measures Art. 20-21)

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_qualifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("service_organizations.id"),
                  nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("legal_representative", sa.String(length=200), nullable=False),
        sa.Column("security_officer", sa.String(length=200), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("notice_from", sa.Date(), nullable=True),
        sa.Column("notice_until", sa.Date(), nullable=True),
        sa.Column("qualified_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_service_qualifications_org_id", "service_qualifications", ["org_id"])
    op.create_index("ix_service_qualifications_status", "service_qualifications", ["status"])


def downgrade() -> None:
    op.drop_index("ix_service_qualifications_status", "service_qualifications")
    op.drop_index("ix_service_qualifications_org_id", "service_qualifications")
    op.drop_table("service_qualifications")
