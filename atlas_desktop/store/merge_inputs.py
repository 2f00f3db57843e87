"""The merge's input: one row per matched mapping with its base and both mirrors' values, read in pages."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from decimal import Decimal
from typing import Any

from atlas_desktop.domain.change_window import ChangeWindow
from atlas_desktop.domain.enums import (
    ConflictPolicy,
    ConflictStatus,
    DecisionStatus,
    MappingStatus,
    OutboxStatus,
    SyncDirection,
)
from atlas_desktop.domain.merge_rows import MergeRow
from atlas_desktop.domain.model import StockKey
from atlas_desktop.domain.snapshots import AtlasValues, BaseValues, ErpValues
from atlas_desktop.store.db import Store
from atlas_desktop.store.decisions import key_scope_sql
from atlas_desktop.store.models import ConnectionRow
from atlas_desktop.store.sqlutil import (
    IN_CHUNK,
    chunked,
    lot_or_none,
    parse_date,
    parse_decimal,
    parse_utc,
    require_connection,
    same_lot_sql,
    utc_text,
)


def merge_inputs(
    store: Store,
    connection_id: str,
    *,
    mapping_ids: Collection[int] | None = None,
    changed_since: ChangeWindow | None = None,
    batch: int = 2000,
    settled: list[int] | None = None,
) -> Iterator[MergeRow]:
    """One MergeRow per matched mapping in id order, read in keyset pages (or only `mapping_ids`).

    `changed_since` keeps only the keys that can need a decision: a side read since the window's
    `read_since`, no base yet, a base moved since its `moved_since` other than by a decision of its
    `decided_by` run, or a write that failed since `moved_since` (its delta must be carried again). They
    are found through indexes, so an incremental run costs what changed, not the catalog.
    Of those, the settled ones (see _SETTLED) are not read: their ids go to `settled` when it is given,
    so the caller can count them as the merge would have (unchanged).
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    with store.session() as session:
        connection_row = session.get(ConnectionRow, connection_id)
        if connection_row is None:
            require_connection(session, connection_id)
            return
        default_direction = connection_row.sync_direction
        default_policy = connection_row.conflict_policy
    params: dict[str, Any] = {"connection_id": connection_id, "limit": batch, "after": 0}
    if changed_since is not None and mapping_ids is None:
        with store.session() as session:
            found = session.connection().exec_driver_sql(
                CANDIDATES_SQL, window_params(connection_id, changed_since)
            )
            to_merge: set[int] = set()
            left_out: set[int] = set()
            for mapping_id, is_settled in found:
                (left_out if is_settled else to_merge).add(mapping_id)
        # A key named twice (settled as read again, not as its write failed) is merged.
        if settled is not None:
            settled.extend(sorted(left_out - to_merge))
        mapping_ids = to_merge
    if mapping_ids is not None:
        for chunk in chunked(sorted(set(mapping_ids)), IN_CHUNK):
            ids = ", ".join(str(int(i)) for i in chunk)
            sql = _MERGE_SQL.format(extra=f"AND m.id IN ({ids})")
            with store.session() as session:
                rows = session.connection().exec_driver_sql(sql, dict(params, limit=len(chunk))).all()
            for row in rows:
                yield _merge_row(row, default_direction, default_policy)
        return
    sql = _MERGE_SQL.format(extra="")
    while True:
        with store.session() as session:
            rows = session.connection().exec_driver_sql(sql, params).all()
        for row in rows:
            yield _merge_row(row, default_direction, default_policy)
        if len(rows) < batch:
            return
        params["after"] = rows[-1][0]


_MERGE_SQL = (
    "SELECT m.id, m.atlas_inventory_id, m.erp_item_id, m.erp_location_id, m.lot, m.ndc_key, "
    "m.sync_direction, m.conflict_policy, "
    "b.quantity, b.expiry, b.unit, "
    "a.atlas_id IS NOT NULL, a.quantity, a.expiry, a.unit, a.version, a.deleted, a.updated_at, "
    "s.item_id IS NOT NULL, s.quantity, s.expiry, s.unit, s.version, s.updated_at, s.lot_ref, "
    f"EXISTS (SELECT 1 FROM conflicts c WHERE c.mapping_id = m.id AND c.status = '{ConflictStatus.OPEN}'), "
    "EXISTS (SELECT 1 FROM sync_decisions d WHERE d.mapping_id = m.id "
    f"AND d.status = '{DecisionStatus.PENDING}'), "
    f"{key_scope_sql()}, m.unit_factor "
    "FROM erp_inventory_mappings m "
    "LEFT JOIN sync_bases b ON b.mapping_id = m.id "
    "LEFT JOIN atlas_rows a ON a.connection_id = m.connection_id AND a.atlas_id = m.atlas_inventory_id "
    "LEFT JOIN erp_stock s ON s.connection_id = m.connection_id AND s.item_id = m.erp_item_id "
    f"AND s.location_id = m.erp_location_id AND {same_lot_sql('m', 's')} "
    f"WHERE m.connection_id = :connection_id AND m.status = '{MappingStatus.MATCHED}' AND m.id > :after "
    "{extra} ORDER BY m.id LIMIT :limit"
)


def window_params(connection_id: str, window: ChangeWindow) -> dict[str, Any]:
    """The parameters of CHANGED_IDS_SQL and CANDIDATES_SQL for `window` (ids start at 1: 0 is no run)."""
    return {
        "connection_id": connection_id,
        "read_since": utc_text(window.read_since),
        "since": utc_text(window.moved_since),
        "decided_by": window.decided_by or 0,
    }


# The keys that can need a decision after the last run: a side read since its reads ended, a base moved
# since it started other than by its own decisions (a key busy when its change was read, a write in
# doubt or a conflict open, has its base touched by that run and is merged once free), a write failed
# (its delta must be carried again), or no base yet. Each part walks an index from its time on (the last
# one the matched mappings against the bases' primary key), never the mirrors or the mappings' values.
_READ_OR_MOVED_SQL = (
    "SELECT m.id FROM atlas_rows a JOIN erp_inventory_mappings m "
    "ON m.connection_id = a.connection_id AND m.atlas_inventory_id = a.atlas_id "
    "WHERE a.connection_id = :connection_id AND a.observed_at >= :read_since "
    "UNION SELECT m.id FROM erp_stock s JOIN erp_inventory_mappings m "
    "ON m.connection_id = s.connection_id AND m.erp_item_id = s.item_id "
    f"AND m.erp_location_id = s.location_id AND {same_lot_sql('m', 's')} "
    "WHERE s.connection_id = :connection_id AND s.observed_at >= :read_since "
    "UNION SELECT b.mapping_id FROM sync_bases b WHERE b.updated_at >= :since "
    "AND b.decided_in IS NOT :decided_by"
)
_FAILED_OR_NEW_SQL = (
    "SELECT o.mapping_id FROM outbox o WHERE o.connection_id = :connection_id "
    f"AND o.status = '{OutboxStatus.FAILED}' AND o.updated_at >= :since AND o.mapping_id IS NOT NULL "
    "UNION SELECT m.id FROM erp_inventory_mappings m "
    f"WHERE m.connection_id = :connection_id AND m.status = '{MappingStatus.MATCHED}' "
    "AND NOT EXISTS (SELECT 1 FROM sync_bases b WHERE b.mapping_id = m.id)"
)
CHANGED_IDS_SQL = f"{_READ_OR_MOVED_SQL} UNION {_FAILED_OR_NEW_SQL}"


def _number(column: str) -> str:
    """SQL: a decimal text column without the trailing zeros of its fraction (same value, one spelling)."""
    return f"(CASE WHEN instr({column}, '.') > 0 THEN rtrim(rtrim({column}, '0'), '.') ELSE {column} END)"


# A key read again or whose base moved is settled when both mirrors hold its base's quantity and expiry,
# the Atlas row is live, the pair is not pack-level, the base is not below zero (merge_key holds such a
# key as a clash) and nothing of it is pending or open: plan() drafts nothing for it and counts it
# unchanged. A first sync's own writes and bases, and their echoes, are such keys. Quantities are
# compared as their text less trailing fractional zeros ("10.000" is "10"), exact where a float is not;
# any other spelling of one value ("1E+1") only makes the key merged, never skipped. Keys whose write
# failed or that have no base are never left out here.
_SETTLED = (
    f"m.connection_id = :connection_id AND m.status = '{MappingStatus.MATCHED}' "
    "AND m.unit_factor IS NULL AND b.quantity IS NOT NULL AND b.quantity NOT LIKE '-%' "
    f"AND a.deleted = 0 AND {_number('a.quantity')} = {_number('b.quantity')} AND a.expiry IS b.expiry "
    f"AND {_number('s.quantity')} = {_number('b.quantity')} AND s.expiry IS b.expiry "
    "AND m.id NOT IN (SELECT d.mapping_id FROM sync_decisions d WHERE d.connection_id = :connection_id "
    f"AND d.status = '{DecisionStatus.PENDING}' AND d.mapping_id IS NOT NULL) "
    "AND m.id NOT IN (SELECT c.mapping_id FROM conflicts c WHERE c.connection_id = :connection_id "
    f"AND c.status = '{ConflictStatus.OPEN}' AND c.mapping_id IS NOT NULL)"
)
# Every key of CHANGED_IDS_SQL with whether it is settled (1) or must be merged (0).
CANDIDATES_SQL = (
    f"SELECT k.id, coalesce(({_SETTLED}), 0) FROM ({_READ_OR_MOVED_SQL}) k "
    "JOIN erp_inventory_mappings m ON m.id = k.id "
    "LEFT JOIN sync_bases b ON b.mapping_id = m.id "
    "LEFT JOIN atlas_rows a ON a.connection_id = m.connection_id AND a.atlas_id = m.atlas_inventory_id "
    "LEFT JOIN erp_stock s ON s.connection_id = m.connection_id AND s.item_id = m.erp_item_id "
    f"AND s.location_id = m.erp_location_id AND {same_lot_sql('m', 's')} "
    f"UNION SELECT f.mapping_id, 0 FROM ({_FAILED_OR_NEW_SQL}) f"
)


def _merge_row(
    row: Sequence[Any], default_direction: SyncDirection, default_policy: ConflictPolicy
) -> MergeRow:
    (
        mapping_id,
        atlas_id,
        item_id,
        location_id,
        lot,
        ndc_key,
        direction,
        policy,
        base_quantity,
        base_expiry,
        base_unit,
        has_atlas,
        atlas_quantity,
        atlas_expiry,
        atlas_unit,
        atlas_version,
        atlas_deleted,
        atlas_updated,
        has_erp,
        erp_quantity,
        erp_expiry,
        erp_unit,
        erp_version,
        erp_updated,
        erp_lot_ref,
        open_conflict,
        pending_decision,
        key_scope,
        unit_factor,
    ) = row
    factor = parse_decimal(unit_factor) if unit_factor is not None else None
    direction = SyncDirection(direction)
    if direction is SyncDirection.BIDIRECTIONAL:
        direction = default_direction
    base = None
    if base_quantity is not None:
        base = BaseValues(Decimal(base_quantity), parse_date(base_expiry), base_unit or "")
    atlas = None
    if has_atlas:
        # A pack-level pair merges in the ERP's base unit: Atlas counts packs of `factor` base units.
        quantity = Decimal(atlas_quantity)
        atlas = AtlasValues(
            quantity=quantity * factor if factor is not None else quantity,
            expiry=parse_date(atlas_expiry),
            unit=atlas_unit,
            version=atlas_version,
            deleted=bool(atlas_deleted),
            updated_at=parse_utc(atlas_updated),
        )
    erp = None
    if has_erp:
        erp = ErpValues(
            quantity=parse_decimal(erp_quantity),
            expiry=parse_date(erp_expiry),
            unit=erp_unit,
            version=erp_version,
            updated_at=parse_utc(erp_updated),
            lot_ref=erp_lot_ref,
        )
    return MergeRow(
        mapping_id=mapping_id,
        atlas_inventory_id=atlas_id,
        erp_key=StockKey(item_id, location_id, lot_or_none(lot)),
        ndc_key=ndc_key,
        direction=direction,
        policy=ConflictPolicy(policy) if policy else default_policy,
        base=base,
        atlas=atlas,
        erp=erp,
        has_open_conflict=bool(open_conflict),
        has_pending_decision=bool(pending_decision),
        key_scope=str(key_scope),
        unit_factor=factor,
    )
