"""Consent records of personal data used with consent (PIPL Art. 13-16; Measures Art. 25)

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_datasets") as batch:
        batch.add_column(sa.Column("consent_required", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "catalog_consents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("catalog_datasets.id"),
                  nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
    )
    op.create_index("ix_catalog_consents_dataset_id", "catalog_consents", ["dataset_id"])
    op.create_index("ix_catalog_consents_subject", "catalog_consents", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_catalog_consents_subject", "catalog_consents")
    op.drop_index("ix_catalog_consents_dataset_id", "catalog_consents")
    op.drop_table("catalog_consents")
    with op.batch_alter_table("catalog_datasets") as batch:
        batch.drop_column("consent_required")
