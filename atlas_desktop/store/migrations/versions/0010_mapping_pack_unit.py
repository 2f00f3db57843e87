"""A mapping's pack level: the unit an Atlas listing counts in (a case) and the ERP base units in one.

Discovery pairs an Atlas listing that names a case's NDC with the product at that unit (domain/packs.py);
the merge converts its quantities by the factor. Existing mappings are at the base unit (both NULL).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: no table rebuild, so the mapping search triggers (0004/0005) stay.
    op.add_column("erp_inventory_mappings", sa.Column("erp_unit", sa.String(length=32), nullable=True))
    op.add_column("erp_inventory_mappings", sa.Column("unit_factor", sa.Text(), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35+): a batch rebuild would drop the search triggers with the table.
    op.execute("ALTER TABLE erp_inventory_mappings DROP COLUMN unit_factor")
    op.execute("ALTER TABLE erp_inventory_mappings DROP COLUMN erp_unit")
