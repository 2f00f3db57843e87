"""Sync runs: their log rows, per-item errors to replay, read watermarks, and connection health."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from atlas_desktop.domain.enums import SyncDirection, SyncLogStatus, SyncType, WatermarkStream
from atlas_desktop.domain.errors import ConfigError, ErrorKind
from atlas_desktop.domain.model import Side
from atlas_desktop.domain.refusals import Refusal
from atlas_desktop.domain.run_log import ItemErrorView, RunView
from atlas_desktop.store import refusals
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import ConnectionRow, SyncItemErrorRow, SyncLogRow, WatermarkRow
from atlas_desktop.store.sqlutil import IN_CHUNK, affected_rows, chunked, require_connection
from atlas_desktop.store.types import utcnow

INTERRUPTED_MESSAGE = "The run was interrupted (Atlas Desktop stopped before it finished)."
_MILLISECOND = Decimal("0.001")




class RunNotFound(ConfigError):
    def __init__(self, sync_log_id: int) -> None:
        super().__init__("sync_log_id", f"there is no sync run {sync_log_id}", fix="Reload the sync history.")


def _run(row: SyncLogRow) -> RunView:
    return RunView(
        id=row.id,
        connection_id=row.connection_id,
        sync_type=row.sync_type,
        direction=row.direction,
        status=row.status,
        items_synced=row.items_synced,
        items_failed=row.items_failed,
        items_skipped=row.items_skipped,
        api_calls_made=row.api_calls_made,
        api_errors=row.api_errors,
        conflicts_opened=row.conflicts_opened,
        in_doubt=row.in_doubt,
        error_message=row.error_message,
        error_details=row.error_details,
        started_at=row.started_at,
        completed_at=row.completed_at,
        duration_seconds=row.duration_seconds,
        reads_done_at=row.reads_done_at,
    )


def _item_error(row: SyncItemErrorRow) -> ItemErrorView:
    return ItemErrorView(
        id=row.id,
        sync_log_id=row.sync_log_id,
        connection_id=row.connection_id,
        mapping_id=row.mapping_id,
        item_ref=row.item_ref,
        error_kind=row.error_kind,
        message=row.message,
        fix=row.fix,
        remote_code=row.remote_code,
        remote_message=row.remote_message,
        created_at=row.created_at,
        replayed_at=row.replayed_at,
    )


def _text(value: Any, limit: int | None = None) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def _item_error_row(
    sync_log_id: int, connection_id: str, mapping_id: int | None, item_ref: str, error: Mapping[str, Any]
) -> SyncItemErrorRow:
    kind = str(error.get("kind") or ErrorKind.SERVER_ERROR)
    return SyncItemErrorRow(
        sync_log_id=sync_log_id,
        connection_id=connection_id,
        mapping_id=mapping_id,
        item_ref=_text(item_ref, 200) or "",
        error_kind=_text(kind, 32) or "",
        message=_text(error.get("message")) or "(no message)",
        fix=_text(error.get("fix")),
        remote_code=_text(error.get("remote_code"), 100),
        remote_message=_text(error.get("remote_message")),
    )


class RunRepository:
    """erp_sync_logs, sync_item_errors and sync_watermarks, plus the connection's last-sync health."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def start(self, connection_id: str, sync_type: SyncType, direction: SyncDirection) -> int:
        with self._store.session() as session:
            require_connection(session, connection_id)
            row = SyncLogRow(
                connection_id=connection_id,
                sync_type=SyncType(sync_type),
                direction=SyncDirection(direction),
                status=SyncLogStatus.RUNNING,
                started_at=utcnow(),
            )
            session.add(row)
            session.flush()
            return row.id

    def reads_done(self, sync_log_id: int, at: datetime) -> None:
        """The run's reads ended at `at`: the next run looks at rows read from then on (ChangeWindow)."""
        with self._store.session() as session:
            row = session.get(SyncLogRow, sync_log_id)
            if row is None:
                raise RunNotFound(sync_log_id)
            row.reads_done_at = at

    def finish(
        self,
        sync_log_id: int,
        *,
        status: SyncLogStatus,
        items_synced: int,
        items_failed: int,
        items_skipped: int,
        api_calls_made: int,
        api_errors: int,
        conflicts_opened: int,
        in_doubt: int,
        error_message: str | None = None,
        error_details: Mapping[str, Any] | list[Any] | None = None,
    ) -> RunView:
        """Close the run and note it on the connection: failures count up, any other outcome but a cancel
        resets them."""
        status = SyncLogStatus(status)
        if status is SyncLogStatus.RUNNING:
            raise ValueError("a finished run needs a final status, not running")
        with self._store.session() as session:
            row = session.get(SyncLogRow, sync_log_id)
            if row is None:
                raise RunNotFound(sync_log_id)
            now = utcnow()
            row.status = status
            row.items_synced, row.items_failed, row.items_skipped = items_synced, items_failed, items_skipped
            row.api_calls_made, row.api_errors = api_calls_made, api_errors
            row.conflicts_opened, row.in_doubt = conflicts_opened, in_doubt
            row.error_message = error_message
            row.error_details = dict(error_details) if isinstance(error_details, Mapping) else error_details
            row.completed_at = now
            seconds = Decimal(str((now - row.started_at).total_seconds()))
            row.duration_seconds = max(seconds, Decimal(0)).quantize(_MILLISECOND)
            connection = session.get(ConnectionRow, row.connection_id)
            # A run the user cancelled neither got through nor failed: the connection's state stays as
            # it was (a cancelled first sync is still "not synced yet").
            if connection is not None and status is not SyncLogStatus.CANCELLED:
                connection.last_sync_at = now
                connection.last_sync_status = status
                connection.consecutive_failures = (
                    connection.consecutive_failures + 1 if status is SyncLogStatus.FAILED else 0
                )
            session.flush()
            return _run(row)

    def get(self, sync_log_id: int) -> RunView:
        with self._store.session() as session:
            row = session.get(SyncLogRow, sync_log_id)
            if row is None:
                raise RunNotFound(sync_log_id)
            return _run(row)

    def add_item_error(
        self,
        sync_log_id: int,
        connection_id: str,
        mapping_id: int | None,
        item_ref: str,
        error: Mapping[str, Any],
    ) -> None:
        """Record one failed item. `error` is AtlasDesktopError.as_dict() (kind, message, fix, remote_*).

        The texts are stored as given: callers pass remote messages through `redact` first.
        """
        with self._store.session() as session:
            session.add(_item_error_row(sync_log_id, connection_id, mapping_id, item_ref, error))

    # ---- refused quantities (store/refusals.py) ----------------------------------------------------------
    def open_refusals(self, connection_id: str) -> list[ItemErrorView]:
        """Refused quantities not cleared since (kind out_of_bounds, not replayed), oldest first."""
        return [_item_error(row) for row in refusals.open_refusals(self._store, connection_id)]

    def record_refusals(
        self,
        sync_log_id: int,
        connection_id: str,
        found: Sequence[Refusal],
        *,
        close: Iterable[int] = (),
    ) -> int:
        """`found` as item errors of the run, `close` closed, in one transaction; returns len(found)."""

        def add(log_id: int, cid: str, mapping_id: int | None, refusal: Refusal) -> SyncItemErrorRow:
            return _item_error_row(log_id, cid, mapping_id, refusal.item_ref, refusal.error)

        return refusals.record_refusals(self._store, sync_log_id, connection_id, found, close=close, add=add)

    def close_refusals(self, ids: Iterable[int]) -> None:
        """The items were read clean again (or are gone): their refusals are over."""
        refusals.close_refusals(self._store, ids)

    def unreplayed_errors(self, connection_id: str, *, limit: int = 10_000) -> list[ItemErrorView]:
        """Failed items not replayed yet, oldest first."""
        with self._store.session() as session:
            rows = session.scalars(
                sa.select(SyncItemErrorRow)
                .where(
                    SyncItemErrorRow.connection_id == connection_id, SyncItemErrorRow.replayed_at.is_(None)
                )
                .order_by(SyncItemErrorRow.id)
                .limit(limit)
            )
            return [_item_error(row) for row in rows]

    def mark_replayed(self, ids: Iterable[int]) -> None:
        now = utcnow()
        with self._store.session() as session:
            for batch in chunked(list(ids), IN_CHUNK):
                session.execute(
                    sa.update(SyncItemErrorRow)
                    .where(SyncItemErrorRow.id.in_(batch), SyncItemErrorRow.replayed_at.is_(None))
                    .values(replayed_at=now)
                )

    def recent(self, connection_id: str, limit: int = 50) -> list[RunView]:
        """The latest runs, newest first."""
        with self._store.session() as session:
            rows = session.scalars(
                sa.select(SyncLogRow)
                .where(SyncLogRow.connection_id == connection_id)
                .order_by(SyncLogRow.started_at.desc(), SyncLogRow.id.desc())
                .limit(limit)
            )
            return [_run(row) for row in rows]

    def get_watermark(self, connection_id: str, source: Side, stream: WatermarkStream) -> str | None:
        with self._store.session() as session:
            row = session.get(WatermarkRow, (connection_id, Side(source), WatermarkStream(stream)))
            return None if row is None else row.value

    def set_watermark(
        self,
        connection_id: str,
        source: Side,
        stream: WatermarkStream,
        value: str,
        *,
        session: Session | None = None,
    ) -> None:
        """Advance a read cursor; pass `session` to commit it with the data it covers."""
        if session is not None:
            self._put_watermark(session, connection_id, source, stream, value)
            return
        with self._store.session() as own:
            require_connection(own, connection_id)
            self._put_watermark(own, connection_id, source, stream, value)

    @staticmethod
    def _put_watermark(
        session: Session, connection_id: str, source: Side, stream: WatermarkStream, value: str
    ) -> None:
        key = (connection_id, Side(source), WatermarkStream(stream))
        row = session.get(WatermarkRow, key)
        if row is None:
            session.add(WatermarkRow(connection_id=connection_id, source=key[1], stream=key[2], value=value))
        else:
            row.value = value
            row.updated_at = utcnow()

    def clear_watermarks(self, connection_id: str) -> int:
        """Forget every cursor of a connection: the next run pulls everything again."""
        with self._store.session() as session:
            result = session.execute(
                sa.delete(WatermarkRow).where(WatermarkRow.connection_id == connection_id)
            )
            return affected_rows(result)

    def mark_interrupted(self, connection_id: str) -> int:
        """Runs a crash left 'running' become failed (at start-up, before any new run). Returns how many."""
        now = utcnow()
        with self._store.session() as session:
            rows = session.scalars(
                sa.select(SyncLogRow).where(
                    SyncLogRow.connection_id == connection_id, SyncLogRow.status == SyncLogStatus.RUNNING
                )
            ).all()
            for row in rows:
                row.status = SyncLogStatus.FAILED
                row.error_message = INTERRUPTED_MESSAGE
                row.completed_at = now
            return len(rows)
