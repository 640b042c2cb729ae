"""Merkle tree of the ledger: stored perfect-subtree nodes, roots and origin in checkpoints

Revision ID: 0004
Revises: 0003
"""

import json

import sqlalchemy as sa
from alembic import op

from lineage import merkle
from lineage.canonical import canonical_bytes

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_nodes",
        sa.Column("level", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("idx", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx"),
    )
    # Plain ADD COLUMN (not a batch copy): the append-only triggers stay in place.
    op.add_column("ledger_checkpoints", sa.Column("root", sa.String(length=64), nullable=True))
    op.add_column("ledger_checkpoints", sa.Column("origin", sa.String(length=100), nullable=True))
    # Audit search: each filter with the newest-first order it pages in.
    op.create_index("ix_ledger_events_time", "ledger_events", ["time"])
    op.create_index("ix_ledger_events_actor_seq", "ledger_events", ["actor", "seq"])
    op.create_index("ix_ledger_events_action_seq", "ledger_events", ["action", "seq"])
    op.create_index("ix_ledger_events_subject_seq", "ledger_events", ["subject", "seq"])
    _backfill()
    _append_only("ledger_nodes")


def _backfill() -> None:
    """Leaves and nodes of the events recorded before the tree existed."""
    bind = op.get_bind()
    tree = merkle.Frontier()
    nodes = sa.table("ledger_nodes", sa.column("level"), sa.column("idx"), sa.column("hash"))
    batch = []
    rows = bind.execute(sa.text(
        "SELECT seq, time, actor, actor_id, action, subject, payload FROM ledger_events "
        "ORDER BY seq"))
    for seq, time, actor, actor_id, action, subject, payload in rows:
        body = {"seq": seq, "time": time, "actor": actor, "actor_id": actor_id,
                "action": action, "subject": subject, "payload": json.loads(payload)}
        batch += [{"level": lv, "idx": ix, "hash": h.hex()}
                  for lv, ix, h in tree.add(merkle.leaf_hash(canonical_bytes(body)))]
        if len(batch) >= 5000:
            bind.execute(nodes.insert(), batch)
            batch = []
    if batch:
        bind.execute(nodes.insert(), batch)


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION tds_ledger_append_only()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"
            )


def downgrade() -> None:
    for name in ("time", "actor_seq", "action_seq", "subject_seq"):
        op.drop_index(f"ix_ledger_events_{name}", table_name="ledger_events")
    op.drop_column("ledger_checkpoints", "origin")
    op.drop_column("ledger_checkpoints", "root")
    op.drop_table("ledger_nodes")
