"""Ledger events wait in a queue between their state change's commit and the sequencer's pass
that chains them (group commit); the event table drops the single-column indexes that its
(column, seq) indexes already serve, which every append wrote

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

REDUNDANT = ("action", "actor", "subject")


def upgrade() -> None:
    op.create_table(
        "ledger_queue",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("time", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
    )
    for column in REDUNDANT:  # plain DDL: a batch table copy would drop the table's guards
        op.drop_index(f"ix_ledger_events_{column}", table_name="ledger_events")


def downgrade() -> None:
    for column in REDUNDANT:
        op.create_index(f"ix_ledger_events_{column}", "ledger_events", [column])
    op.drop_table("ledger_queue")
