"""Batched ERP writes: a batch (one NetSuite adjustment, one SAP material document) is a record of its own.

`write_batches` holds each batch's key (the externalId / header-text key it is sent under), its state and
the remote document once known; `outbox.batch_key` names the batch an entry was last frozen into, set and
made durable before the batch leaves, so an in-doubt batch is settled by one lookup of its key.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "write_batches",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["erp_connections.id"],
            name=op.f("fk_write_batches_connection_id_erp_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_write_batches")),
    )
    with op.batch_alter_table("write_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_write_batches_connection_id"), ["connection_id"], unique=False)
    # A plain ADD COLUMN and index: no outbox rebuild.
    op.add_column("outbox", sa.Column("batch_key", sa.String(length=120), nullable=True))
    op.create_index(op.f("ix_outbox_batch_key"), "outbox", ["batch_key"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_batch_key"), table_name="outbox")
    op.execute("ALTER TABLE outbox DROP COLUMN batch_key")
    with op.batch_alter_table("write_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_write_batches_connection_id"))
    op.drop_table("write_batches")
