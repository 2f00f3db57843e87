"""The mapping review table's one query: the window, the CLI and the API read their rows here.

Filtering, sorting and cutting happen on the mapping table alone (SKUs through uncorrelated subqueries),
then only the page's rows are joined with the base and both mirrors: a page of a large table costs what
the page holds, not the five-table join of every row.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.mapping_view import MappingView
from atlas_desktop.store.db import Store
from atlas_desktop.store.mapping_search import fts_ids, review_search
from atlas_desktop.store.models import (
    AtlasMirrorRow,
    ErpProductRow,
    ErpStockRow,
    InventoryMappingRow,
    SyncBaseRow,
)
from atlas_desktop.store.sqlutil import LIKE_ESCAPE, digits_only, like_pattern, same_lot

_M = InventoryMappingRow.__table__
_A = AtlasMirrorRow.__table__
_S = ErpStockRow.__table__
_P = ErpProductRow.__table__
_B = SyncBaseRow.__table__

# The sort keys a caller may name: columns of the mapping table (values from other tables would need
# the join before the cut).
ORDERABLE = {
    name: _M.c[name]
    for name in ("id", "ndc_key", "item_name", "atlas_inventory_id", "erp_item_id", "erp_location_id", "lot",
                 "status", "match_method", "last_synced_at")
}  # fmt: skip
_MAPPING_COLUMNS = [f.name for f in fields(MappingView)][:16]
_VIEW_QUERY = sa.select(
    *(_M.c[name] for name in _MAPPING_COLUMNS),
    _B.c.quantity.label("base_quantity"),
    _B.c.expiry.label("base_expiry"),
    _A.c.quantity.label("atlas_quantity"),
    _A.c.expiry.label("atlas_expiry"),
    _S.c.quantity.label("erp_quantity"),
    _S.c.expiry.label("erp_expiry"),
).select_from(
    _M.outerjoin(_B, _B.c.mapping_id == _M.c.id)
    .outerjoin(
        _A, sa.and_(_A.c.connection_id == _M.c.connection_id, _A.c.atlas_id == _M.c.atlas_inventory_id)
    )
    .outerjoin(
        _S,
        sa.and_(
            _S.c.connection_id == _M.c.connection_id,
            _S.c.item_id == _M.c.erp_item_id,
            _S.c.location_id == _M.c.erp_location_id,
            same_lot(_M.c.lot, _S.c.lot),
        ),
    )
)


def filtered(query: Any, connection_id: str, status: MappingStatus | None, search: str | None) -> Any:
    """`query` (over the mapping table) kept to one connection, a status and what the search box holds."""
    text = review_search(search)
    indexed = len(text) >= 3
    # The index's ids drive an indexed search: through the connection's index SQLite would walk every
    # mapping of the connection and look each id up in the search's result.
    connection = _no_index(_M.c.connection_id) if indexed else _M.c.connection_id
    query = query.where(connection == connection_id)
    if status is not None:
        query = query.where(_M.c.status == MappingStatus(status))
    if not text:
        return query
    if indexed:
        return query.where(_M.c.id.in_(fts_ids(text)))
    pattern = like_pattern(text)
    searched = (
        _M.c.ndc_key, _M.c.ndc_text_atlas, _M.c.ndc_text_erp, _M.c.item_name, _M.c.lot,
        _M.c.atlas_inventory_id, _M.c.erp_item_id,
    )  # fmt: skip
    like = [column.like(pattern, escape=LIKE_ESCAPE) for column in searched]
    digits = digits_only(text)
    if len(digits) >= 3 and digits != text:
        like.append(_M.c.ndc_key.like(like_pattern(digits), escape=LIKE_ESCAPE))
    atlas_skus = sa.select(_A.c.atlas_id).where(
        _A.c.connection_id == connection_id, _A.c.sku.like(pattern, escape=LIKE_ESCAPE)
    )
    erp_skus = sa.select(_P.c.item_id).where(
        _P.c.connection_id == connection_id, _P.c.sku.like(pattern, escape=LIKE_ESCAPE)
    )
    like += [_M.c.atlas_inventory_id.in_(atlas_skus), _M.c.erp_item_id.in_(erp_skus)]
    return query.where(sa.or_(*like))


def _no_index(column: Any) -> Any:
    """`+column`: the same value, but SQLite uses no index to find it."""
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def ordering(order_by: str) -> list[Any]:
    """`order_by` is a column name, with "-" in front for descending; the id breaks ties."""
    name = order_by.lstrip("-")
    column = ORDERABLE.get(name)
    if column is None:
        raise ConfigError(
            "order_by", f"cannot sort by '{name}'", fix=f"Sort by one of: {', '.join(sorted(ORDERABLE))}."
        )
    if order_by.startswith("-"):
        return [column.desc(), _M.c.id.desc()]
    return [column.asc(), _M.c.id.asc()]


class ReviewTable:
    """The review table's reads: count and ids on the mapping table, then the rows with their values."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def count(
        self, connection_id: str, *, status: MappingStatus | None = None, search: str | None = None
    ) -> int:
        query = filtered(sa.select(sa.func.count()).select_from(_M), connection_id, status, search)
        with self._store.session() as session:
            return session.scalar(query) or 0

    def ids(
        self, connection_id: str, *, status: MappingStatus | None, search: str | None, order_by: str = "id"
    ) -> list[int]:
        """Every matching mapping id in table order: one scan; the window holds ids, not rows."""
        query = filtered(sa.select(_M.c.id), connection_id, status, search).order_by(*ordering(order_by))
        with self._store.session() as session:
            return list(session.scalars(query))

    def views(self, ids: list[int]) -> list[MappingView]:
        """The MappingView of each id, in the order given (ids gone meanwhile are left out)."""
        if not ids:
            return []
        with self._store.session() as session:
            return _in_order(session, ids)

    def page(
        self,
        connection_id: str,
        *,
        status: MappingStatus | None,
        search: str | None,
        offset: int,
        limit: int,
        order_by: str = "id",
    ) -> list[MappingView]:
        """One page of the table, in `order_by` order."""
        ids_query = (
            filtered(sa.select(_M.c.id), connection_id, status, search)
            .order_by(*ordering(order_by))
            .offset(max(offset, 0))
            .limit(max(limit, 0))
        )
        with self._store.session() as session:
            ids = list(session.scalars(ids_query))
            return _in_order(session, ids) if ids else []


def _in_order(session: Any, ids: list[int]) -> list[MappingView]:
    found = session.execute(_VIEW_QUERY.where(_M.c.id.in_(ids)))
    rows = {row.id: MappingView(**row._asdict()) for row in found}
    return [rows[i] for i in ids if i in rows]
