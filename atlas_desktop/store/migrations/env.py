"""Alembic environment: migrates the connection store.db hands over, or a URL for development use."""

from __future__ import annotations

from typing import TypedDict, Unpack

from alembic import context
from sqlalchemy import Connection, create_engine

from atlas_desktop.store.models import Base

config = context.config
target_metadata = Base.metadata


class _Target(TypedDict, total=False):
    """Where the migrations run: a live connection, or a URL to render SQL for (offline)."""

    connection: Connection
    url: str | None
    literal_binds: bool


def _configure(**kwargs: Unpack[_Target]) -> None:
    # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
    context.configure(target_metadata=target_metadata, render_as_batch=True, compare_type=True, **kwargs)


def run_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as new_connection:
        _run_on(new_connection)
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
