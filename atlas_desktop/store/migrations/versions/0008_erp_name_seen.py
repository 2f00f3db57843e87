"""The ERP item name last seen per mapping: the base of the product master's three-way name rule.

A name is carried to Atlas only when the ERP's changed since it was last seen (never on a first sight,
never a cut of the Atlas name). Existing pairs start from the ERP name their mirror holds now, so a
rename made after the upgrade is carried and nothing is rewritten just because the names differ.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: no table rebuild, and the mapping search triggers (0004/0005) do not fire on it.
    op.add_column("erp_inventory_mappings", sa.Column("erp_name_seen", sa.String(length=300), nullable=True))
    op.execute(
        "UPDATE erp_inventory_mappings SET erp_name_seen = (SELECT p.name FROM erp_products p "
        "WHERE p.connection_id = erp_inventory_mappings.connection_id "
        "AND p.item_id = erp_inventory_mappings.erp_item_id AND p.name != '') "
        "WHERE status IN ('matched', 'conflict') AND erp_item_id IS NOT NULL"
    )


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35+): a batch rebuild would drop the search triggers with the table.
    op.execute("ALTER TABLE erp_inventory_mappings DROP COLUMN erp_name_seen")
