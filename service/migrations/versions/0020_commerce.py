"""Products, their prices, sales and costs (Measures Art. 27, 29, 31, 35-37)

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commerce_products",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("release_id", sa.Integer(), sa.ForeignKey("egress_releases.id"),
                  nullable=False, unique=True),
        sa.Column("product_no", sa.String(length=40), nullable=False, unique=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("org", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("free", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=True),
        sa.Column("price_unit", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("listed_by", sa.Integer(), nullable=True),
        sa.Column("listed_at", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
    )
    for column in ("org", "category", "status"):
        op.create_index(f"ix_commerce_products_{column}", "commerce_products", [column])
    op.create_table(
        "commerce_price_proposals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("commerce_products.id"),
                  nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("previous_cents", sa.Integer(), nullable=True),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("proposed_by", sa.Integer(), nullable=True),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
    )
    for column in ("product_id", "status"):
        op.create_index(f"ix_commerce_price_proposals_{column}", "commerce_price_proposals",
                        [column])
    op.create_table(
        "commerce_bookings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("org", sa.String(length=100), nullable=False),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("commerce_products.id"),
                  nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("counterparty", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("void_note", sa.Text(), nullable=False),
    )
    for column in ("kind", "org", "product_id", "day"):
        op.create_index(f"ix_commerce_bookings_{column}", "commerce_bookings", [column])


def downgrade() -> None:
    op.drop_table("commerce_bookings")
    op.drop_table("commerce_price_proposals")
    op.drop_table("commerce_products")
