"""ledger archives (sealed months) and the purge permit of archived, expired events

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_archives",
        sa.Column("month", sa.String(length=7), primary_key=True),
        sa.Column("first_seq", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("manifest", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("archived_at", sa.DateTime(), nullable=False),
        sa.Column("purged_at", sa.DateTime(), nullable=True),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Deleting events is allowed only inside a purge transaction (SET LOCAL).
        op.execute(
            "CREATE OR REPLACE FUNCTION tds_ledger_append_only() RETURNS trigger AS $$ "
            "BEGIN IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'ledger_events' "
            "AND current_setting('tds.ledger_purge', true) = 'on' THEN RETURN NULL; END IF; "
            "RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, "
            "TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
    else:
        op.create_table("ledger_purge_permits", sa.Column("id", sa.Integer(), primary_key=True))
        op.execute("DROP TRIGGER IF EXISTS ledger_events_no_delete")
        op.execute(
            "CREATE TRIGGER ledger_events_no_delete BEFORE DELETE ON ledger_events "
            "WHEN NOT EXISTS (SELECT 1 FROM ledger_purge_permits) "
            "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"
        )


def downgrade() -> None:
    op.drop_table("ledger_archives")
