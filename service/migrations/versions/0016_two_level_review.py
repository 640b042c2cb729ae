"""Two-level review of applications: the providing department's check of each listed dataset's
part, the merchant's attachments (申请函, 承诺书), and the reviewer's structured assessment

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_applications") as batch:
        batch.add_column(sa.Column("assessment", sa.JSON(), nullable=True))
    op.create_table(
        "catalog_application_checks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("application_id", sa.Integer(),
                  sa.ForeignKey("catalog_applications.id"), nullable=False),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("catalog_datasets.id"),
                  nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("assessment", sa.JSON(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("checked_by", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("application_id", "dataset_id"),
    )
    op.create_index("ix_catalog_application_checks_application_id",
                    "catalog_application_checks", ["application_id"])
    op.create_index("ix_catalog_application_checks_dataset_id",
                    "catalog_application_checks", ["dataset_id"])
    op.create_table(
        "catalog_application_attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("application_id", sa.Integer(),
                  sa.ForeignKey("catalog_applications.id"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_catalog_application_attachments_application_id",
                    "catalog_application_attachments", ["application_id"])
    # Applications already in review when two-level review arrives: each listed dataset's
    # department has its check to do, as for a new application.
    op.execute("""
        INSERT INTO catalog_application_checks (application_id, dataset_id, verdict, comment)
        SELECT DISTINCT i.application_id, v.dataset_id, 'pending', ''
        FROM catalog_application_items i
        JOIN catalog_dataset_versions v ON v.id = i.dataset_version_id
        JOIN catalog_applications a ON a.id = i.application_id
        WHERE a.status IN ('submitted', 'escalated', 'returned')
    """)


def downgrade() -> None:
    op.drop_table("catalog_application_attachments")
    op.drop_table("catalog_application_checks")
    with op.batch_alter_table("catalog_applications") as batch:
        batch.drop_column("assessment")
