"""A run records when its reads ended, and a base which run's decision set it.

The next run merges the rows read after the last run's reads ended (before, that run merged them) and
the bases moved since it started, less those its own decisions set: after a first sync of 100k keys its
own reads and bases are no longer all looked at again. The bases' time index carries decided_in so that
lookup reads the index alone; the loop guard's read of the last hour's decisions gets an index on the
time (it walked every decision the connection ever had).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("erp_sync_logs", sa.Column("reads_done_at", sa.String(32), nullable=True))
    op.add_column("sync_bases", sa.Column("decided_in", sa.Integer(), nullable=True))
    op.drop_index("ix_sync_bases_updated_at", table_name="sync_bases")
    op.create_index("ix_sync_bases_updated_at_decided_in", "sync_bases", ["updated_at", "decided_in"])
    op.create_index(
        "ix_sync_decisions_connection_id_created_at_mapping_id",
        "sync_decisions",
        ["connection_id", "created_at", "mapping_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_sync_decisions_connection_id_created_at_mapping_id", table_name="sync_decisions")
    op.drop_index("ix_sync_bases_updated_at_decided_in", table_name="sync_bases")
    op.create_index("ix_sync_bases_updated_at", "sync_bases", ["updated_at"])
    with op.batch_alter_table("sync_bases") as table:
        table.drop_column("decided_in")
    with op.batch_alter_table("erp_sync_logs") as table:
        table.drop_column("reads_done_at")
