"""Audit keying: marks where the unkeyed (plain SHA-256) audit entries of older versions end.

From this revision on, every audit entry's hash is an HMAC-SHA256 under a key kept in the vault
(store/audit_keys.py). Migrations cannot reach the vault, so this one only records whether entries
exist that still carry the old unkeyed hashes ("pending"); the app re-seals them with the key the first
time the audit log is used after the upgrade (AuditLog.finish_keying). A new profile starts "keyed".

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_keying",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("legacy_through", sa.Integer(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_keying_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_keying")),
    )
    op.execute(
        "INSERT INTO audit_keying (id, state, legacy_through) "
        "SELECT 1, CASE WHEN EXISTS (SELECT 1 FROM audit_log) THEN 'pending' ELSE 'keyed' END, NULL"
    )


def downgrade() -> None:
    op.drop_table("audit_keying")
