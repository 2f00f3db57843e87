"""ERP stock mirror: the ERP's own id of each lot (`lot_ref`), as the stock read saw it.

NetSuite names a lot to issue stock from by its inventorynumber internal id. The stock read has it in
every lot row; kept in the mirror, the merge hands it to the write, so an Atlas sale from a lot costs
one request instead of a lookup and the adjustment, in every process and not only the one that read.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows mirrored before this revision have no id: their writes look the lot up, as before.
    op.add_column("erp_stock", sa.Column("lot_ref", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("erp_stock", schema=None) as batch_op:
        batch_op.drop_column("lot_ref")
