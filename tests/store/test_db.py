"""Opening, migrating and backing up the database; pragmas; sessions; cascades."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.model import ErpType
from atlas_desktop.store.db import MIGRATIONS_DIR, SchemaTooNew, Store, StoreError, alembic_config
from atlas_desktop.store.models import Base, ConnectionRow, InventoryMappingRow, SyncBaseRow

# The newest shipped revision: tests follow new migrations without edits.
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def revision_of(path: Path) -> str | None:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT version_num FROM alembic_version").fetchall()
    return rows[0][0] if rows else None


def add_connection_with_mapping(store: Store) -> str:
    with store.session() as session:
        connection = ConnectionRow(
            erp_type=ErpType.NETSUITE, connection_name="NS", settings={"account_id": "1"}
        )
        session.add(connection)
        session.flush()
        mapping = InventoryMappingRow(
            connection_id=connection.id, status=MappingStatus.MATCHED, ndc_key="00002143380"
        )
        session.add(mapping)
        session.flush()
        session.add(SyncBaseRow(mapping_id=mapping.id))
        return connection.id


def test_empty_file_is_migrated_to_head_and_matches_the_models(tmp_path: Path) -> None:
    path = tmp_path / "profile" / "atlas.db"
    with Store.open(path) as store:
        assert revision_of(path) == HEAD
        with store.engine.connect() as connection:
            # The search index is an FTS5 virtual table (migration 0004): SQL the models cannot describe.
            def modelled(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
                return not (type_ == "table" and (name or "").startswith("mapping_search"))

            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": modelled}
            )
            assert compare_metadata(context, Base.metadata) == []
    # A fresh database has nothing to back up.
    assert not list(path.parent.glob("*.bak-*"))


def test_every_model_maps_a_table_as_its_declared_type_says() -> None:
    # models.Base tells the type checker __table__ is a Table; Core updates and deletes rely on it.
    mapped = [mapper.class_ for mapper in Base.registry.mappers]
    assert mapped
    assert [model for model in mapped if not isinstance(model.__table__, sa.Table)] == []


def test_reopening_at_head_keeps_data_and_makes_no_backup(tmp_path: Path) -> None:
    path = tmp_path / "atlas.db"
    with Store.open(path) as store:
        connection_id = add_connection_with_mapping(store)
    with Store.open(path) as store, store.session() as session:
        assert session.get(ConnectionRow, connection_id) is not None
    assert revision_of(path) == HEAD
    assert not list(tmp_path.glob("*.bak-*"))


def test_every_connection_has_wal_foreign_keys_timeout_and_normal_sync(store: Store) -> None:
    # Two connections held at once force the pool to open a second one: the listener covers it too.
    with store.engine.connect() as first, store.engine.connect() as second:
        for connection in (first, second):
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 5000
            assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL


def database_file_alone(store: Store, tmp_path: Path) -> Store:
    """The database as a power cut that takes the write-ahead log would leave it: the main file only."""
    copy = tmp_path / "after-power-cut.db"
    shutil.copyfile(store.path, copy)
    return Store.open(copy)


def connection_names(store: Store) -> list[str]:
    with store.session() as session:
        return list(session.scalars(sa.select(ConnectionRow.connection_name)))


def test_a_checkpoint_puts_the_commits_in_the_database_file_itself(store: Store, tmp_path: Path) -> None:
    add_connection_with_mapping(store)
    with database_file_alone(store, tmp_path) as before:
        assert connection_names(before) == []  # committed, but only in the log so far (NORMAL)
    assert store.checkpoint() is True
    with database_file_alone(store, tmp_path) as after:
        assert connection_names(after) == ["NS"]


def test_session_commits_on_success_and_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        session.add(ConnectionRow(erp_type=ErpType.NETSUITE, connection_name="lost"))
        session.flush()
        raise RuntimeError("boom")
    with store.session() as session:
        assert session.scalars(sa.select(ConnectionRow)).all() == []


def test_foreign_keys_are_enforced_and_deleting_a_connection_cascades(store: Store) -> None:
    connection_id = add_connection_with_mapping(store)
    with pytest.raises(sa.exc.IntegrityError), store.session() as session:
        session.add(InventoryMappingRow(connection_id="no-such-connection", status=MappingStatus.MATCHED))
    with store.session() as session:
        session.execute(sa.delete(ConnectionRow).where(ConnectionRow.id == connection_id))
    with store.session() as session:
        assert session.scalars(sa.select(InventoryMappingRow)).all() == []
        assert session.scalars(sa.select(SyncBaseRow)).all() == []


DUMMY_REVISION = '''"""Test-only revision: rebuilds erp_connections in batch mode, like a column change."""
import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("erp_connections", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("test_marker", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("erp_connections") as batch_op:
        batch_op.drop_column("test_marker")
'''


@pytest.fixture
def newer_migrations(tmp_path: Path) -> Path:
    """A copy of the shipped migrations plus a second revision: what the next release would carry."""
    copy = tmp_path / "migrations-next"
    shutil.copytree(MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "0099_dummy.py").write_text(DUMMY_REVISION.replace("{head}", str(HEAD)))
    return copy


def test_upgrade_from_an_older_revision_backs_up_first_and_keeps_children(
    tmp_path: Path, newer_migrations: Path
) -> None:
    path = tmp_path / "atlas.db"
    with Store.open(path) as store:
        connection_id = add_connection_with_mapping(store)

    with Store.open(path, migrations_dir=newer_migrations) as store:
        assert revision_of(path) == "0099"
        with store.session() as session:
            # The batch rebuild dropped and re-created the parent table; with foreign keys on during
            # the migration this would have cascade-deleted the mapping and its base.
            assert session.scalars(sa.select(InventoryMappingRow)).one().connection_id == connection_id
            assert len(session.scalars(sa.select(SyncBaseRow)).all()) == 1
            columns = {c["name"] for c in sa.inspect(session.connection()).get_columns("erp_connections")}
            assert "test_marker" in columns

    backup = tmp_path / f"atlas.db.bak-{HEAD}"
    assert revision_of(backup) == HEAD
    with sqlite3.connect(backup) as db:
        assert db.execute("SELECT id FROM erp_connections").fetchall() == [(connection_id,)]
        assert "test_marker" not in {row[1] for row in db.execute("PRAGMA table_info(erp_connections)")}


def test_database_from_a_newer_app_is_refused_with_update_advice(
    tmp_path: Path, newer_migrations: Path
) -> None:
    path = tmp_path / "atlas.db"
    Store.open(path, migrations_dir=newer_migrations).close()
    with pytest.raises(SchemaTooNew) as caught:
        Store.open(path)
    assert "newer version" in caught.value.message
    assert "Update Atlas Desktop" in caught.value.fix
    assert revision_of(path) == "0099"  # untouched


def test_a_file_that_is_not_a_database_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "atlas.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not an Atlas Desktop database"):
        Store.open(path)


def test_a_zero_length_database_is_reported_not_taken_for_a_new_profile(tmp_path: Path) -> None:
    path = tmp_path / "atlas.db"
    with Store.open(path):
        pass
    backup = path.with_name("atlas.db.bak-0006")
    backup.write_bytes(path.read_bytes())
    path.write_bytes(b"")
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    assert "0 bytes" in caught.value.message and "atlas.db.bak-0006" in caught.value.fix
    assert path.stat().st_size == 0  # nothing created over it
