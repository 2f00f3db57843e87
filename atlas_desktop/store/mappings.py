"""Inventory mappings: discovery's writes and the user's manual choices.

MappingRepository also hands out what other modules read from the mappings: the review table
(review_table.py), the merge's input (merge_inputs.py) and the ERP names last seen (product_names.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from atlas_desktop.domain.change_window import ChangeWindow
from atlas_desktop.domain.discovery_counts import DiscoveryCounts
from atlas_desktop.domain.drafts import PAIRED, MappingDraft
from atlas_desktop.domain.enums import (
    ConflictPolicy,
    MappingStatus,
    MatchMethod,
    SyncDirection,
)
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.merge_rows import MergeRow
from atlas_desktop.domain.ownership import Double
from atlas_desktop.domain.release import empty_gradually
from atlas_desktop.store.change_records import mapping_labels
from atlas_desktop.store.db import Store
from atlas_desktop.store.decisions import cancel_pending_writes
from atlas_desktop.store.merge_inputs import merge_inputs
from atlas_desktop.store.models import (
    AtlasMirrorRow,
    ErpProductRow,
    InventoryMappingRow,
    SyncBaseRow,
)
from atlas_desktop.store.ownership import (
    MappedElsewhere,
    claims,
    other_connections,
    release_doubles,
    settle_doubles,
)
from atlas_desktop.store.product_names import ProductMasterDiff, note_erp_names, product_master_diffs
from atlas_desktop.store.review_table import MappingView, ReviewTable
from atlas_desktop.store.search_index import BulkIndexing
from atlas_desktop.store.sqlutil import (
    IN_CHUNK,
    chunked,
    lot_or_none,
    no_lot,
    require_connection,
    same_lot,
    utc_text,
)
from atlas_desktop.store.types import utcnow


class MappingNotFound(ConfigError):
    def __init__(self, mapping_id: int) -> None:
        super().__init__(
            "mapping_id",
            f"there is no mapping with id {mapping_id}",
            fix="It may have been replaced by a new discovery; reload the mapping table.",
        )
        self.mapping_id = mapping_id


_M = InventoryMappingRow.__table__

_ErpKey = tuple[str | None, str | None, str | None]
_Identity = tuple[str | None, str | None, str | None, str | None]


def _erp_key(item: str | None, location: str | None, lot: str | None) -> _ErpKey | None:
    return (item, location, lot_or_none(lot)) if item and location else None


def _user_owned(status: MappingStatus, method: MatchMethod | None) -> bool:
    # Ignoring is always the user's choice; manual rows (pairs, and the sides unmap freed) are too.
    return method is MatchMethod.MANUAL or status is MappingStatus.IGNORED


# The columns a repeated draft may refresh on a kept row.
_DESCRIBED = (
    "ndc_key", "ndc_text_atlas", "ndc_text_erp", "item_name", "status", "match_method", "note", "erp_unit",
    "unit_factor",
)  # fmt: skip

# Positional: a tuple per row binds cheaper than a dict (a first sync inserts every mapping); _draft_row.
_INSERT_SQL = (
    "INSERT INTO erp_inventory_mappings (connection_id, atlas_inventory_id, erp_item_id, erp_location_id, "
    "lot, ndc_key, ndc_text_atlas, ndc_text_erp, item_name, status, match_method, sync_direction, "
    "created_at, updated_at, note, erp_unit, unit_factor) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'bidirectional', ?, ?, ?, ?, ?)"
)
_WRITE_BATCH = 2000  # rows per executemany while a discovery is applied
# A row kept in conflict keeps its note too: it says why (a double names the other connection).
_REFRESH_SQL = (
    "UPDATE erp_inventory_mappings SET ndc_key = :ndc_key, ndc_text_atlas = :ndc_text_atlas, "
    "ndc_text_erp = :ndc_text_erp, item_name = :item_name, status = :status, match_method = :match_method, "
    f"note = CASE WHEN :status = '{MappingStatus.CONFLICT.value}' THEN note ELSE :note END, "
    "erp_unit = :erp_unit, unit_factor = :unit_factor, updated_at = :now WHERE id = :id"
)
_CLAIM_BATCH = 500  # drafts whose Atlas ids are looked up together in other connections' mappings


def _draft_row(connection_id: str, draft: MappingDraft, lot: str | None, now: str | None) -> tuple[Any, ...]:
    """_INSERT_SQL's parameters for a draft (`lot` is lot_or_none(draft.lot))."""
    method = draft.match_method
    return (
        connection_id,
        draft.atlas_inventory_id,
        draft.erp_item_id,
        draft.erp_location_id,
        lot,
        draft.ndc_key,
        draft.ndc_text_atlas,
        draft.ndc_text_erp,
        draft.item_name,
        MappingStatus(draft.status).value,
        MatchMethod(method).value if method else None,
        now,
        now,
        draft.note,
        draft.erp_unit,
        str(draft.unit_factor) if draft.unit_factor is not None else None,
    )


def _draft_params(draft: MappingDraft, now: str | None) -> dict[str, Any]:
    """The same values by name, for _REFRESH_SQL and the comparison with a kept row."""
    (_, atlas_id, item, location, lot, key, text_atlas, text_erp, name, status, method, _, _, note, unit,
     factor) = _draft_row("", draft, lot_or_none(draft.lot), now)  # fmt: skip
    return {
        "atlas_inventory_id": atlas_id, "erp_item_id": item, "erp_location_id": location, "lot": lot,
        "ndc_key": key, "ndc_text_atlas": text_atlas, "ndc_text_erp": text_erp, "item_name": name,
        "status": status, "match_method": method, "note": note, "erp_unit": unit, "unit_factor": factor,
        "now": now,
    }  # fmt: skip


class MappingRepository:
    """The mapping table: discovery replaces automatic rows, the user's choices are never overwritten."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # ---- discovery -------------------------------------------------------------------------------

    def apply_discovery(self, connection_id: str, drafts: Iterable[MappingDraft]) -> DiscoveryCounts:
        """Replace the automatic mappings with `drafts` in one transaction.

        Kept untouched: every mapping the user made (match_method manual, or ignored). Kept with its id,
        options and base: an automatic row a draft repeats (same Atlas id and ERP key); a matched row
        keeps its status even if the engine marked it conflict. Every other automatic row is removed
        (with its base). A draft touching an Atlas id or ERP key a user-made row holds is skipped.
        `drafts` is consumed once, as it comes: rows are written in batches, never all held at once.

        An Atlas row belongs to one connection: a draft for an Atlas row another connection of the profile
        pairs is left out (a pair keeps its ERP side, as unmatched) and counted in `mapped_elsewhere`, unless
        this connection pairs the row too (a double from before the check: kept, marked, for the user).
        """
        now = utc_text(utcnow())
        kept = inserted = skipped = 0
        with self._store.session() as session:
            require_connection(session, connection_id)
            connection = session.connection()
            others = other_connections(connection, connection_id)
            paired_here: set[str] = set()
            elsewhere: dict[str, int] = {}
            owned_atlas: set[str] = set()
            owned_erp: set[_ErpKey] = set()
            # identity -> [(row id, status, hash of the described columns)]: a hash, not the texts,
            # so a rediscovery of 100k rows does not hold every name twice.
            auto: dict[_Identity, list[tuple[int, MappingStatus, int]]] = {}
            existing = connection.exec_driver_sql(
                f"SELECT id, atlas_inventory_id, erp_item_id, erp_location_id, lot, status, match_method, "
                f"{', '.join(_DESCRIBED)} FROM erp_inventory_mappings WHERE connection_id = ?",
                (connection_id,),
            )
            for row_id, atlas_id, item, location, lot, status, method, *described in existing:
                status = MappingStatus(status)
                if atlas_id and status in PAIRED:
                    paired_here.add(atlas_id)
                if _user_owned(status, MatchMethod(method) if method else None):
                    kept += 1
                    if atlas_id:
                        owned_atlas.add(atlas_id)
                    if (key := _erp_key(item, location, lot)) is not None:
                        owned_erp.add(key)
                else:
                    identity = (atlas_id, item, location, lot_or_none(lot))
                    auto.setdefault(identity, []).append((row_id, status, hash(tuple(described))))

            index = BulkIndexing(connection)
            inserts: list[tuple[Any, ...]] = []
            refreshes: list[dict[str, Any]] = []
            unpaired: list[int] = []

            def flush(force: bool = False) -> None:
                nonlocal inserted
                if refreshes and (force or len(refreshes) >= _WRITE_BATCH):
                    connection.exec_driver_sql(_REFRESH_SQL, refreshes)
                    index.reindex([params["id"] for params in refreshes])
                    refreshes.clear()
                if inserts and (force or len(inserts) >= _WRITE_BATCH):
                    connection.exec_driver_sql(_INSERT_SQL, inserts)
                    inserted += len(inserts)
                    inserts.clear()

            def unclaimed(batch: list[MappingDraft]) -> Iterator[MappingDraft]:
                ids = [d.atlas_inventory_id for d in batch if d.atlas_inventory_id]
                taken = claims(connection, others, [i for i in ids if i not in paired_here])
                for draft in batch:
                    claim = taken.get(draft.atlas_inventory_id) if draft.atlas_inventory_id else None
                    if claim is None:
                        yield draft
                        continue
                    elsewhere[claim.connection_name] = elsewhere.get(claim.connection_name, 0) + 1
                    if draft.status in PAIRED:  # the ERP position is still there, unmatched here
                        note = f"its Atlas row is mapped by connection '{claim.connection_name}'"
                        yield _erp_side(draft, note)

            checked = (d for batch in chunked(drafts, _CLAIM_BATCH) for d in unclaimed(batch))
            for draft in checked if others else drafts:
                erp_key = _erp_key(draft.erp_item_id, draft.erp_location_id, draft.lot)
                if (draft.atlas_inventory_id and draft.atlas_inventory_id in owned_atlas) or (
                    erp_key is not None and erp_key in owned_erp
                ):
                    skipped += 1
                    continue
                lot = lot_or_none(draft.lot)
                identity = (draft.atlas_inventory_id, draft.erp_item_id, draft.erp_location_id, lot)
                candidates = auto.get(identity)
                if not candidates:
                    inserts.append(_draft_row(connection_id, draft, lot, now))
                    flush()
                    continue
                params = _draft_params(draft, now)
                row_id, status, described_hash = candidates.pop()
                kept += 1
                if status in PAIRED and draft.status in PAIRED:
                    params["status"] = status.value  # the engine's conflict mark stays
                elif status in PAIRED:
                    unpaired.append(row_id)
                # Rewriting 100k unchanged rows would cost more than the whole comparison.
                if hash(tuple(params[name] for name in _DESCRIBED)) != described_hash:
                    refreshes.append(dict(params, id=row_id))
                    flush()
            flush(force=True)

            stale = [row_id for rows in auto.values() for row_id, _, _ in rows]
            empty_gradually(auto)  # a rediscovery's 100k entries: see domain/release.py
            for batch in chunked(stale, IN_CHUNK):
                connection.execute(sa.delete(_M).where(_M.c.id.in_(batch)))
            index.forget(stale)
            for batch in chunked(unpaired, IN_CHUNK):
                connection.execute(sa.delete(SyncBaseRow.__table__).where(SyncBaseRow.mapping_id.in_(batch)))
            index.finish()
            while paired_here:  # like empty_gradually (dicts and lists): a set of 100k ids
                paired_here.pop()
            doubles = settle_doubles(connection, connection_id)

            totals: dict[MappingStatus, int] = dict(
                connection.execute(
                    sa.select(_M.c.status, sa.func.count())
                    .where(_M.c.connection_id == connection_id)
                    .group_by(_M.c.status)
                ).all()
            )
        return DiscoveryCounts(
            **{status.value: totals.get(status, 0) for status in MappingStatus},
            kept=kept,
            inserted=inserted,
            removed=len(stale),
            skipped=skipped,
            mapped_elsewhere=tuple(sorted(elsewhere.items())),
            doubles=doubles.total,
            new_doubles=tuple(doubles.found),
        )

    def settle_doubles(self, connection_id: str) -> list[Double]:
        """Mark this connection's pairs whose Atlas row another connection maps too (and lift the mark
        where that is over); returns the doubles marked now, for the caller to report once."""
        with self._store.session() as session:
            return settle_doubles(session.connection(), connection_id).found

    # ---- the user's choices ----------------------------------------------------------------------

    def map_manually(
        self,
        connection_id: str,
        atlas_inventory_id: str,
        erp_item_id: str,
        erp_location_id: str,
        lot: str | None,
    ) -> int:
        """Pair an Atlas row with an ERP position by hand; returns the mapping id.

        The unmatched and ambiguous rows of both sides are replaced. An automatic pair of exactly these
        two sides becomes manual and keeps its base. Refused when either side is paired or ignored with
        something else, and when another connection of the profile maps the Atlas row (MappedElsewhere).
        """
        for name, value in (
            ("atlas_inventory_id", atlas_inventory_id),
            ("erp_item_id", erp_item_id),
            ("erp_location_id", erp_location_id),
        ):
            if not value or not value.strip():
                raise ConfigError(name, "is empty", fix="Pick both an Atlas row and an ERP stock position.")
        lot = lot_or_none(lot)
        with self._store.session() as session:
            require_connection(session, connection_id)
            touching = session.scalars(
                sa.select(InventoryMappingRow).where(
                    InventoryMappingRow.connection_id == connection_id,
                    sa.or_(
                        InventoryMappingRow.atlas_inventory_id == atlas_inventory_id,
                        sa.and_(
                            InventoryMappingRow.erp_item_id == erp_item_id,
                            InventoryMappingRow.erp_location_id == erp_location_id,
                            same_lot(InventoryMappingRow.lot, no_lot(lot)),
                        ),
                    ),
                )
            ).all()
            same_pair = None
            for row in touching:
                if row.status not in (*PAIRED, MappingStatus.IGNORED):
                    continue
                if (row.atlas_inventory_id, row.erp_item_id, row.erp_location_id, lot_or_none(row.lot)) == (
                    atlas_inventory_id,
                    erp_item_id,
                    erp_location_id,
                    lot,
                ):
                    same_pair = row
                    continue
                side = "Atlas row" if row.atlas_inventory_id == atlas_inventory_id else "ERP stock position"
                raise ConfigError(
                    "mapping",
                    f"the {side} is already {row.status.value} in mapping {row.id}",
                    fix="Unmap that mapping first (or un-ignore it), then map these two.",
                )
            _refuse_mapped_elsewhere(session, connection_id, atlas_inventory_id)
            atlas = session.get(AtlasMirrorRow, (connection_id, atlas_inventory_id))
            product = session.get(ErpProductRow, (connection_id, erp_item_id))
            replaced = [row for row in touching if row is not same_pair]
            texts_atlas = [r.ndc_text_atlas for r in replaced if r.ndc_text_atlas]
            texts_erp = [r.ndc_text_erp for r in replaced if r.ndc_text_erp]
            names = [r.item_name for r in replaced if r.item_name]
            keys = [r.ndc_key for r in replaced if r.ndc_key]
            for row in replaced:
                session.delete(row)
            row = same_pair or InventoryMappingRow(
                connection_id=connection_id,
                atlas_inventory_id=atlas_inventory_id,
                erp_item_id=erp_item_id,
                erp_location_id=erp_location_id,
                lot=lot,
            )
            row.status = MappingStatus.MATCHED
            row.match_method = MatchMethod.MANUAL
            row.note = None
            row.ndc_text_atlas = (
                row.ndc_text_atlas or (atlas.ndc_text if atlas else None) or _first(texts_atlas)
            )
            row.ndc_text_erp = (
                row.ndc_text_erp or (product.ndc_text if product else None) or _first(texts_erp)
            )
            row.ndc_key = (
                row.ndc_key
                or (atlas.ndc_key if atlas else None)
                or (product.ndc_key if product else None)
                or _first(keys)
            )
            row.item_name = row.item_name or (atlas.name if atlas else None) or _first(names)
            session.add(row)
            session.flush()
            return row.id

    def unmap(self, connection_id: str, mapping_id: int) -> None:
        """Split a pair back into an unmatched Atlas row and an unmatched ERP row; drops the base.

        Both new rows are manual, so the next discovery does not pair them again by NDC; writes not
        yet sent for the pair are cancelled (writes in flight go on).
        """
        with self._store.session() as session:
            row = self._row(session, mapping_id, connection_id)
            if row.status not in (*PAIRED, MappingStatus.IGNORED) or not (
                row.atlas_inventory_id and row.erp_item_id
            ):
                raise ConfigError(
                    "mapping", f"mapping {mapping_id} is not a pair", fix="Only matched rows can be unmapped."
                )
            cancel_pending_writes(session, mapping_id)
            common = {
                "connection_id": connection_id,
                "ndc_key": row.ndc_key,
                "item_name": row.item_name,
                "match_method": MatchMethod.MANUAL,
                "note": "unmapped by the user",
            }
            session.add(
                InventoryMappingRow(
                    atlas_inventory_id=row.atlas_inventory_id,
                    ndc_text_atlas=row.ndc_text_atlas,
                    status=MappingStatus.UNMATCHED_ATLAS,
                    **common,
                )
            )
            session.add(
                InventoryMappingRow(
                    erp_item_id=row.erp_item_id,
                    erp_location_id=row.erp_location_id,
                    lot=row.lot,
                    ndc_text_erp=row.ndc_text_erp,
                    status=MappingStatus.UNMATCHED_ERP,
                    **common,
                )
            )
            atlas_id = row.atlas_inventory_id
            session.delete(row)  # its base and conflicts go by ON DELETE CASCADE
            session.flush()
            # The other connection's side of a double syncs again from its next run on.
            release_doubles(session.connection(), [atlas_id])

    def set_mapping_options(
        self,
        mapping_id: int,
        *,
        sync_direction: SyncDirection | None = None,
        conflict_policy: ConflictPolicy | None = None,
        status: MappingStatus | None = None,
        inherit_policy: bool = False,
    ) -> None:
        """Change a mapping's direction, policy (`inherit_policy` goes back to the connection's) or status.

        A status set here is the user's choice: the row becomes manual and discovery leaves it alone.
        """
        with self._store.session() as session:
            row = self._row(session, mapping_id)
            if sync_direction is not None:
                row.sync_direction = SyncDirection(sync_direction)
            if inherit_policy:
                row.conflict_policy = None
            elif conflict_policy is not None:
                row.conflict_policy = ConflictPolicy(conflict_policy)
            if status is not None:
                status = MappingStatus(status)
                if status in PAIRED and not (
                    row.atlas_inventory_id and row.erp_item_id and row.erp_location_id
                ):
                    raise ConfigError(
                        "status",
                        f"mapping {mapping_id} has only one side and cannot be {status.value}",
                        fix="Use map manually to pair it with a row of the other side.",
                    )
                if status in PAIRED and row.status not in PAIRED and row.atlas_inventory_id:
                    _refuse_mapped_elsewhere(session, row.connection_id, row.atlas_inventory_id)
                if status is not row.status and status not in PAIRED:
                    session.execute(sa.delete(SyncBaseRow).where(SyncBaseRow.mapping_id == mapping_id))
                    cancel_pending_writes(session, mapping_id)
                row.status = status
                row.match_method = MatchMethod.MANUAL
            row.updated_at = utcnow()

    # ---- reading ---------------------------------------------------------------------------------

    @staticmethod
    def _row(session: Session, mapping_id: int, connection_id: str | None = None) -> InventoryMappingRow:
        row = session.get(InventoryMappingRow, mapping_id)
        if row is None or (connection_id is not None and row.connection_id != connection_id):
            raise MappingNotFound(mapping_id)
        return row

    # ---- the review table (store/review_table.py holds the query) ----------------------------------

    def get(self, mapping_id: int) -> MappingView:
        found = ReviewTable(self._store).views([mapping_id])
        if not found:
            raise MappingNotFound(mapping_id)
        return found[0]

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
        """One page of the review table. `order_by` is a column name, with "-" in front for descending."""
        return ReviewTable(self._store).page(
            connection_id, status=status, search=search, offset=offset, limit=limit, order_by=order_by
        )

    def any_matched(self, connection_id: str) -> bool:
        matched = _M.c.connection_id == connection_id, _M.c.status == MappingStatus.MATCHED
        with self._store.session() as session:
            return bool(session.scalar(sa.exists(sa.select(_M.c.id).where(*matched)).select()))

    def count(
        self, connection_id: str, *, status: MappingStatus | None = None, search: str | None = None
    ) -> int:
        return ReviewTable(self._store).count(connection_id, status=status, search=search)

    def product_master_diffs(
        self, connection_id: str, *, changed_since: ChangeWindow | None = None
    ) -> list[ProductMasterDiff]:
        return product_master_diffs(self._store, connection_id, changed_since)

    def note_erp_names(self, seen: Sequence[tuple[int, str]]) -> None:
        note_erp_names(self._store, seen)

    @property
    def store(self) -> Store:
        return self._store

    def labels(self, mapping_ids: Collection[int]) -> dict[int, tuple[str, str, str]]:
        """(item name, lot, ERP location) per mapping: the lists of changes name keys by them."""
        return mapping_labels(self._store, mapping_ids)

    def merge_inputs(
        self,
        connection_id: str,
        *,
        mapping_ids: Collection[int] | None = None,
        changed_since: ChangeWindow | None = None,
        batch: int = 2000,
        settled: list[int] | None = None,
    ) -> Iterator[MergeRow]:
        """One MergeRow per matched mapping in id order (store/merge_inputs.py)."""
        return merge_inputs(
            self._store, connection_id, mapping_ids=mapping_ids, changed_since=changed_since, batch=batch,
            settled=settled,
        )


def _erp_side(draft: MappingDraft, note: str) -> MappingDraft:
    """The ERP half of a pair draft, as an unmatched ERP row."""
    return MappingDraft(
        None, draft.erp_item_id, draft.erp_location_id, draft.lot, draft.ndc_key, None,
        draft.ndc_text_erp, draft.item_name, MappingStatus.UNMATCHED_ERP, None, note,
    )  # fmt: skip


def _refuse_mapped_elsewhere(session: Session, connection_id: str, atlas_inventory_id: str) -> None:
    connection = session.connection()
    claim = claims(connection, other_connections(connection, connection_id), [atlas_inventory_id])
    if atlas_inventory_id in claim:
        raise MappedElsewhere(atlas_inventory_id, claim[atlas_inventory_id])


def _first(values: Sequence[str]) -> str | None:
    return values[0] if values else None
