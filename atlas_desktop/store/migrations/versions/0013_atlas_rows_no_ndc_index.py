"""The Atlas mirror loses its (connection_id, ndc_key) index: no query looks Atlas rows up by NDC key.

Discovery reads the Atlas mirror in atlas_id order and matches NDC keys in memory; every other read of
atlas_rows goes by its primary key or by observed_at (EXPLAIN QUERY PLAN the same with and without it).
The index was upkeep on every write of the mirror, the bulk upserts of a first sync included.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index(op.f("ix_atlas_rows_connection_id_ndc_key"), table_name="atlas_rows")


def downgrade() -> None:
    op.create_index(
        op.f("ix_atlas_rows_connection_id_ndc_key"), "atlas_rows", ["connection_id", "ndc_key"], unique=False
    )
