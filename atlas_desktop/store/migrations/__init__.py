"""Alembic migration scripts of the local store (run in code by store.db, no alembic.ini)."""
