"""Initial schema: connections, encrypted secrets, Atlas account, mappings, sync state and logs.

Storage types only (no app types): decimals and UTC datetimes are text, enums are VARCHAR(32)
without CHECK constraints, so this file stays valid whatever the models become.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "atlas_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("auth_method", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=True),
        sa.Column("company_name", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atlas_accounts")),
    )
    op.create_table(
        "erp_connections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("erp_type", sa.String(length=32), nullable=False),
        sa.Column("connection_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("field_mappings", sa.JSON(), nullable=False),
        sa.Column("sync_enabled", sa.Boolean(), nullable=False),
        sa.Column("sync_frequency_minutes", sa.Integer(), nullable=False),
        sa.Column("sync_direction", sa.String(length=32), nullable=False),
        sa.Column("conflict_policy", sa.String(length=32), nullable=False),
        sa.Column("sync_scopes", sa.JSON(), nullable=False),
        sa.Column("last_sync_at", sa.String(length=32), nullable=True),
        sa.Column("last_sync_status", sa.String(length=32), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erp_connections")),
    )
    op.create_table(
        "secrets",
        sa.Column("owner_id", sa.String(length=80), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "field", name=op.f("pk_secrets")),
    )
    op.create_table(
        "erp_inventory_mappings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("atlas_inventory_id", sa.String(length=100), nullable=True),
        sa.Column("erp_item_id", sa.String(length=100), nullable=True),
        sa.Column("erp_location_id", sa.String(length=100), nullable=True),
        sa.Column("lot", sa.String(length=100), nullable=True),
        sa.Column("ndc_key", sa.String(length=12), nullable=True),
        sa.Column("ndc_text_atlas", sa.String(length=64), nullable=True),
        sa.Column("ndc_text_erp", sa.String(length=64), nullable=True),
        sa.Column("item_name", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("match_method", sa.String(length=32), nullable=True),
        sa.Column("sync_direction", sa.String(length=32), nullable=False),
        sa.Column("conflict_policy", sa.String(length=32), nullable=True),
        sa.Column("last_synced_at", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["erp_connections.id"],
            name=op.f("fk_erp_inventory_mappings_connection_id_erp_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erp_inventory_mappings")),
    )
    with op.batch_alter_table("erp_inventory_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erp_inventory_mappings_connection_id_atlas_inventory_id"),
            ["connection_id", "atlas_inventory_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_erp_inventory_mappings_connection_id_erp_item_id_erp_location_id_lot"),
            ["connection_id", "erp_item_id", "erp_location_id", "lot"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_erp_inventory_mappings_connection_id_ndc_key"),
            ["connection_id", "ndc_key"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_erp_inventory_mappings_connection_id_status_id"),
            ["connection_id", "status", "id"],
            unique=False,
        )

    op.create_table(
        "erp_sync_logs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("sync_type", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("items_synced", sa.Integer(), nullable=False),
        sa.Column("items_failed", sa.Integer(), nullable=False),
        sa.Column("items_skipped", sa.Integer(), nullable=False),
        sa.Column("api_calls_made", sa.Integer(), nullable=False),
        sa.Column("api_errors", sa.Integer(), nullable=False),
        sa.Column("conflicts_opened", sa.Integer(), nullable=False),
        sa.Column("in_doubt", sa.Integer(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_details", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.String(length=32), nullable=False),
        sa.Column("completed_at", sa.String(length=32), nullable=True),
        sa.Column("duration_seconds", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["erp_connections.id"],
            name=op.f("fk_erp_sync_logs_connection_id_erp_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erp_sync_logs")),
    )
    with op.batch_alter_table("erp_sync_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erp_sync_logs_connection_id_started_at"),
            ["connection_id", "started_at"],
            unique=False,
        )

    op.create_table(
        "erp_webhooks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("bind_host", sa.String(length=255), nullable=False),
        sa.Column("bind_port", sa.Integer(), nullable=False),
        sa.Column("last_received_at", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["erp_connections.id"],
            name=op.f("fk_erp_webhooks_connection_id_erp_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erp_webhooks")),
    )
    with op.batch_alter_table("erp_webhooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_erp_webhooks_connection_id"), ["connection_id"], unique=False)

    op.create_table(
        "sync_watermarks",
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("stream", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["erp_connections.id"],
            name=op.f("fk_sync_watermarks_connection_id_erp_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "source", "stream", name=op.f("pk_sync_watermarks")),
    )
    op.create_table(
        "conflicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("mapping_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("base_value", sa.Text(), nullable=True),
        sa.Column("atlas_value", sa.Text(), nullable=True),
        sa.Column("erp_value", sa.Text(), nullable=True),
        sa.Column("atlas_changed_at", sa.String(length=32), nullable=True),
        sa.Column("erp_changed_at", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("resolved_value", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["erp_connections.id"],
            name=op.f("fk_conflicts_connection_id_erp_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mapping_id"],
            ["erp_inventory_mappings.id"],
            name=op.f("fk_conflicts_mapping_id_erp_inventory_mappings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflicts")),
    )
    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conflicts_connection_id_status"), ["connection_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_conflicts_mapping_id"), ["mapping_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("mapping_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("remote_id", sa.String(length=100), nullable=True),
        sa.Column("sync_log_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["erp_connections.id"],
            name=op.f("fk_outbox_connection_id_erp_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mapping_id"],
            ["erp_inventory_mappings.id"],
            name=op.f("fk_outbox_mapping_id_erp_inventory_mappings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sync_log_id"],
            ["erp_sync_logs.id"],
            name=op.f("fk_outbox_sync_log_id_erp_sync_logs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_connection_id_status"), ["connection_id", "status"], unique=False
        )

    op.create_table(
        "sync_bases",
        sa.Column("mapping_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Text(), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("lot", sa.String(length=100), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("atlas_version", sa.String(length=100), nullable=True),
        sa.Column("erp_version", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["mapping_id"],
            ["erp_inventory_mappings.id"],
            name=op.f("fk_sync_bases_mapping_id_erp_inventory_mappings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mapping_id", name=op.f("pk_sync_bases")),
    )
    op.create_table(
        "sync_item_errors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sync_log_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("mapping_id", sa.Integer(), nullable=True),
        sa.Column("item_ref", sa.String(length=200), nullable=False),
        sa.Column("error_kind", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("fix", sa.Text(), nullable=True),
        sa.Column("remote_code", sa.String(length=100), nullable=True),
        sa.Column("remote_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("replayed_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["erp_connections.id"],
            name=op.f("fk_sync_item_errors_connection_id_erp_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mapping_id"],
            ["erp_inventory_mappings.id"],
            name=op.f("fk_sync_item_errors_mapping_id_erp_inventory_mappings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sync_log_id"],
            ["erp_sync_logs.id"],
            name=op.f("fk_sync_item_errors_sync_log_id_erp_sync_logs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_item_errors")),
    )
    with op.batch_alter_table("sync_item_errors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_item_errors_connection_id_replayed_at"),
            ["connection_id", "replayed_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_sync_item_errors_sync_log_id"), ["sync_log_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_item_errors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_item_errors_sync_log_id"))
        batch_op.drop_index(batch_op.f("ix_sync_item_errors_connection_id_replayed_at"))

    op.drop_table("sync_item_errors")
    op.drop_table("sync_bases")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_connection_id_status"))

    op.drop_table("outbox")
    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conflicts_mapping_id"))
        batch_op.drop_index(batch_op.f("ix_conflicts_connection_id_status"))

    op.drop_table("conflicts")
    op.drop_table("sync_watermarks")
    with op.batch_alter_table("erp_webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erp_webhooks_connection_id"))

    op.drop_table("erp_webhooks")
    with op.batch_alter_table("erp_sync_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erp_sync_logs_connection_id_started_at"))

    op.drop_table("erp_sync_logs")
    with op.batch_alter_table("erp_inventory_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erp_inventory_mappings_connection_id_status_id"))
        batch_op.drop_index(batch_op.f("ix_erp_inventory_mappings_connection_id_ndc_key"))
        batch_op.drop_index(
            batch_op.f("ix_erp_inventory_mappings_connection_id_erp_item_id_erp_location_id_lot")
        )
        batch_op.drop_index(batch_op.f("ix_erp_inventory_mappings_connection_id_atlas_inventory_id"))

    op.drop_table("erp_inventory_mappings")
    op.drop_table("secrets")
    op.drop_table("erp_connections")
    op.drop_table("atlas_accounts")
