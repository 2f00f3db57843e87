"""Audit log: an append-only, hash-chained record of who did what, kept at least six years (DSCSA).

Storage types only, like 0001: UTC datetimes are text. No foreign key on connection_id: removing a
connection must neither delete nor change its audit entries (either would break the hash chain).
Two triggers make the table append-only for ordinary code: a sealed entry cannot be updated, and an
entry younger than six years cannot be deleted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# An entry is sealed once its hash is set; the append itself fills the hash of its own placeholder.
_NO_UPDATE = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN OLD.hash <> ''
BEGIN SELECT RAISE(ABORT, 'audit_log entries cannot be changed'); END
"""
# Stored times are fixed-width UTC ISO text, so text order is time order (store/types.py).
_NO_YOUNG_DELETE = """
CREATE TRIGGER audit_log_no_young_delete BEFORE DELETE ON audit_log
WHEN OLD.at > strftime('%Y-%m-%dT%H:%M:%f', 'now', '-6 years')
BEGIN SELECT RAISE(ABORT, 'audit_log entries younger than 6 years cannot be deleted (DSCSA)'); END
"""


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("connection_id", sa.String(length=36), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
    op.execute(_NO_UPDATE)
    op.execute(_NO_YOUNG_DELETE)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_young_delete")
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
    op.drop_table("audit_log")
