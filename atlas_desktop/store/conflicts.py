"""Conflicts the user decides: listing, resolving, closing those both sides have since settled."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from atlas_desktop.domain.conflict_view import ConflictView
from atlas_desktop.domain.enums import ConflictStatus, Resolution
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import AtlasMirrorRow, ConflictRow, ErpProductRow, InventoryMappingRow
from atlas_desktop.store.sqlutil import affected_rows
from atlas_desktop.store.types import utcnow


class ConflictNotFound(ConfigError):
    def __init__(self, conflict_id: int) -> None:
        super().__init__(
            "conflict_id",
            f"there is no conflict with id {conflict_id}",
            fix="Reload the conflict list; it may have been closed by a sync.",
        )


_C = ConflictRow.__table__
_M = InventoryMappingRow.__table__
_A = AtlasMirrorRow.__table__
_P = ErpProductRow.__table__
_QUERY = sa.select(
    *_C.columns,
    _M.c.ndc_key,
    # A mapping stored without a name: the Atlas listing's, else the ERP item's (never an id on screen).
    sa.func.coalesce(_M.c.item_name, _A.c.name, _P.c.name).label("item_name"),
    _M.c.atlas_inventory_id,
    _M.c.erp_item_id,
    _M.c.erp_location_id,
    _M.c.lot,
).select_from(
    _C.outerjoin(_M, _M.c.id == _C.c.mapping_id)
    .outerjoin(
        _A, sa.and_(_A.c.connection_id == _M.c.connection_id, _A.c.atlas_id == _M.c.atlas_inventory_id)
    )
    .outerjoin(_P, sa.and_(_P.c.connection_id == _M.c.connection_id, _P.c.item_id == _M.c.erp_item_id))
)


def _view(row: Any) -> ConflictView:
    return ConflictView(**row._asdict())


class ConflictRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def open_conflicts(self, connection_id: str, *, offset: int = 0, limit: int = 200) -> list[ConflictView]:
        """Open conflicts, oldest first."""
        query = (
            _QUERY.where(_C.c.connection_id == connection_id, _C.c.status == ConflictStatus.OPEN)
            .order_by(_C.c.id)
            .offset(max(offset, 0))
            .limit(max(limit, 0))
        )
        with self._store.session() as session:
            return [_view(row) for row in session.execute(query)]

    def count_open(self, connection_id: str) -> int:
        with self._store.session() as session:
            return (
                session.scalar(
                    sa.select(sa.func.count())
                    .select_from(_C)
                    .where(_C.c.connection_id == connection_id, _C.c.status == ConflictStatus.OPEN)
                )
                or 0
            )

    def resolve(self, conflict_id: int, resolution: Resolution, value: str | None) -> ConflictView:
        """Record the user's choice. take_atlas / take_erp default to that side's value; value needs one.

        The engine carries the chosen value out on its next run (the conflict is no longer open).
        """
        resolution = Resolution(resolution)
        with self._store.session() as session:
            row = session.get(ConflictRow, conflict_id)
            if row is None:
                raise ConflictNotFound(conflict_id)
            if row.status is not ConflictStatus.OPEN:
                raise ConfigError(
                    "conflict",
                    f"conflict {conflict_id} is already resolved",
                    fix="Reload the conflict list.",
                )
            if resolution is Resolution.VALUE:
                if value is None or not value.strip():
                    raise ConfigError(
                        "value", "is empty", fix="Enter the value to keep, or take the Atlas or ERP value."
                    )
                chosen: str | None = value.strip()
            elif resolution is Resolution.TAKE_ATLAS:
                chosen = row.atlas_value if value is None else value
            else:
                chosen = row.erp_value if value is None else value
            row.status = ConflictStatus.RESOLVED
            row.resolution = resolution
            row.resolved_value = chosen
            row.resolved_at = utcnow()
        return self.get(conflict_id)

    def get(self, conflict_id: int) -> ConflictView:
        with self._store.session() as session:
            row = session.execute(_QUERY.where(_C.c.id == conflict_id)).first()
        if row is None:
            raise ConflictNotFound(conflict_id)
        return _view(row)

    def close_false(self, mapping_id: int) -> int:
        """Both sides now agree: close the mapping's open conflicts with no resolution. Returns how many."""
        with self._store.session() as session:
            result = session.execute(
                sa.update(ConflictRow)
                .where(ConflictRow.mapping_id == mapping_id, ConflictRow.status == ConflictStatus.OPEN)
                .values(status=ConflictStatus.RESOLVED, resolution=None, resolved_at=utcnow())
            )
            return affected_rows(result)

    def history(
        self, connection_id: str, mapping_id: int | None = None, limit: int = 200
    ) -> list[ConflictView]:
        """Conflicts open and resolved, newest first."""
        query = _QUERY.where(_C.c.connection_id == connection_id)
        if mapping_id is not None:
            query = query.where(_C.c.mapping_id == mapping_id)
        with self._store.session() as session:
            return [
                _view(row) for row in session.execute(query.order_by(_C.c.id.desc()).limit(max(limit, 0)))
            ]
