"""Indexes that let a sync run find the keys changed since the last one without reading every mapping.

An incremental run merges only keys read again (atlas_rows / erp_stock `observed_at`), whose base moved
(sync_bases `updated_at`), whose write failed, or that have no base yet, and compares item names only
there and where the product master was read again (erp_products `observed_at`). Found by scanning and
joining every mapping, that cost ~2 s per 100k items on every run, even an idle one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_INDEXES = (
    ("atlas_rows", ("connection_id", "observed_at")),
    ("erp_stock", ("connection_id", "observed_at")),
    ("erp_products", ("connection_id", "observed_at")),
    ("sync_bases", ("updated_at",)),
)


def upgrade() -> None:
    for table, columns in _INDEXES:
        op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns), unique=False)


def downgrade() -> None:
    for table, columns in _INDEXES:
        op.drop_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table_name=table)
