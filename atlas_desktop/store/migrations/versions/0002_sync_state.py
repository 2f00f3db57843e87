"""Sync state: Atlas and ERP mirrors, merge decisions, outbox.decision_id, mapping and conflict notes.

Storage types only, like 0001: decimals and UTC datetimes are text, enums VARCHAR(32) without CHECK.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TIME = sa.String(length=32)


def _connection_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["connection_id"],
        ["erp_connections.id"],
        name=op.f(f"fk_{table}_connection_id_erp_connections"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "atlas_rows",
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("atlas_id", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("ndc_text", sa.String(length=64), nullable=False),
        sa.Column("ndc_key", sa.String(length=12), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("lot", sa.String(length=100), nullable=True),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("quantity", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("location", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("observed_at", _TIME, nullable=False),
        _connection_fk("atlas_rows"),
        sa.PrimaryKeyConstraint("connection_id", "atlas_id", name=op.f("pk_atlas_rows")),
    )
    with op.batch_alter_table("atlas_rows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_atlas_rows_connection_id_ndc_key"), ["connection_id", "ndc_key"], unique=False
        )

    op.create_table(
        "erp_products",
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("ndc_text", sa.String(length=64), nullable=True),
        sa.Column("ndc_key", sa.String(length=12), nullable=True),
        sa.Column("manufacturer", sa.String(length=300), nullable=True),
        sa.Column("lot_tracked", sa.Boolean(), nullable=False),
        sa.Column("inactive", sa.Boolean(), nullable=False),
        sa.Column("last_modified", _TIME, nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("observed_at", _TIME, nullable=False),
        _connection_fk("erp_products"),
        sa.PrimaryKeyConstraint("connection_id", "item_id", name=op.f("pk_erp_products")),
    )
    with op.batch_alter_table("erp_products", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erp_products_connection_id_ndc_key"), ["connection_id", "ndc_key"], unique=False
        )

    op.create_table(
        "erp_stock",
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=100), nullable=False),
        sa.Column("location_id", sa.String(length=100), nullable=False),
        sa.Column("lot", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("version", sa.String(length=100), nullable=True),
        sa.Column("updated_at", _TIME, nullable=True),
        sa.Column("observed_at", _TIME, nullable=False),
        sa.Column("seen_marker", sa.String(length=40), nullable=True),
        _connection_fk("erp_stock"),
        sa.PrimaryKeyConstraint("connection_id", "item_id", "location_id", "lot", name=op.f("pk_erp_stock")),
    )

    op.create_table(
        "sync_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("mapping_id", sa.Integer(), nullable=True),
        sa.Column("new_base", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("sync_log_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("applied_at", _TIME, nullable=True),
        _connection_fk("sync_decisions"),
        sa.ForeignKeyConstraint(
            ["mapping_id"],
            ["erp_inventory_mappings.id"],
            name=op.f("fk_sync_decisions_mapping_id_erp_inventory_mappings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sync_log_id"],
            ["erp_sync_logs.id"],
            name=op.f("fk_sync_decisions_sync_log_id_erp_sync_logs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_decisions")),
    )
    with op.batch_alter_table("sync_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_decisions_connection_id_status"), ["connection_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sync_decisions_mapping_id_status"), ["mapping_id", "status"], unique=False
        )

    # A new foreign key on an existing table: SQLite needs the table rebuilt (batch mode does it).
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quantity_delta", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_decision_id_sync_decisions"),
            "sync_decisions",
            ["decision_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_outbox_decision_id"), ["decision_id"], unique=False)
        # ON DELETE SET NULL from mappings would scan the whole outbox per deleted mapping otherwise.
        batch_op.create_index(
            batch_op.f("ix_outbox_mapping_id_status"), ["mapping_id", "status"], unique=False
        )

    with op.batch_alter_table("sync_item_errors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_item_errors_mapping_id"), ["mapping_id"], unique=False)

    with op.batch_alter_table("erp_inventory_mappings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.String(length=300), nullable=True))

    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.drop_column("note")

    with op.batch_alter_table("erp_inventory_mappings", schema=None) as batch_op:
        batch_op.drop_column("note")

    with op.batch_alter_table("sync_item_errors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_item_errors_mapping_id"))

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_mapping_id_status"))
        batch_op.drop_index(batch_op.f("ix_outbox_decision_id"))
        batch_op.drop_constraint(batch_op.f("fk_outbox_decision_id_sync_decisions"), type_="foreignkey")
        batch_op.drop_column("quantity_delta")
        batch_op.drop_column("decision_id")

    with op.batch_alter_table("sync_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_decisions_mapping_id_status"))
        batch_op.drop_index(batch_op.f("ix_sync_decisions_connection_id_status"))
    op.drop_table("sync_decisions")
    op.drop_table("erp_stock")
    with op.batch_alter_table("erp_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erp_products_connection_id_ndc_key"))
    op.drop_table("erp_products")
    with op.batch_alter_table("atlas_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_atlas_rows_connection_id_ndc_key"))
    op.drop_table("atlas_rows")
