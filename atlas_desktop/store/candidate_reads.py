"""Reads behind "Map to ERP item…": ERP items an NDC may name, their positions, the Atlas row's place."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

import sqlalchemy as sa

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.review_rows import ErpCandidate
from atlas_desktop.store.db import Store
from atlas_desktop.store.models import AtlasMirrorRow, ErpProductRow, ErpStockRow, InventoryMappingRow
from atlas_desktop.store.sqlutil import IN_CHUNK, chunked, lot_or_none, same_lot

_S, _P, _M, _A = (ErpStockRow.__table__, ErpProductRow.__table__, InventoryMappingRow.__table__,
                  AtlasMirrorRow.__table__)  # fmt: skip
# The NDC text with its separators taken out: "12345-678-90" and "1234567890" compare equal.
_BARE_NDC = sa.func.replace(sa.func.replace(sa.func.replace(_P.c.ndc_text, "-", ""), " ", ""), ".", "")


class CandidateReads:
    def __init__(self, store: Store) -> None:
        self._store = store

    def items_by_ndc(
        self, connection_id: str, keys: Collection[str], bare: Collection[str]
    ) -> dict[str, str | None]:
        """ERP item id -> NDC text, for items whose canonical key is one of `keys` or whose NDC text,
        separators aside, is one of `bare` (texts the ERP keeps without a key: bare 10 digits)."""
        if not keys and not bare:
            return {}
        conditions: list[sa.ColumnElement[bool]] = []
        if keys:
            conditions.append(_P.c.ndc_key.in_(sorted(keys)))
        if bare:
            # Unindexed, but only over items without a key: the ones a key could not find.
            conditions.append(sa.and_(_P.c.ndc_key.is_(None), _BARE_NDC.in_(sorted(bare))))
        query = sa.select(_P.c.item_id, _P.c.ndc_text).where(
            _P.c.connection_id == connection_id, sa.or_(*conditions)
        )
        with self._store.session() as session:
            return {item: text for item, text in session.execute(query.limit(200))}

    def positions(self, connection_id: str, item_ids: Collection[str]) -> list[ErpCandidate]:
        """Every ERP stock position of `item_ids`, named, with whether a pair holds it already."""
        held = (
            sa.select(sa.literal(1))
            .where(
                _M.c.connection_id == _S.c.connection_id,
                _M.c.erp_item_id == _S.c.item_id,
                _M.c.erp_location_id == _S.c.location_id,
                same_lot(_M.c.lot, _S.c.lot),
                _M.c.status.in_([MappingStatus.MATCHED, MappingStatus.CONFLICT]),
            )
            .exists()
        )
        found: list[ErpCandidate] = []
        with self._store.session() as session:
            for chunk in chunked(sorted(set(item_ids)), IN_CHUNK):
                query = (
                    sa.select(
                        _S.c.item_id,
                        _S.c.location_id,
                        _S.c.lot,
                        _P.c.sku,
                        _P.c.name,
                        _P.c.ndc_text,
                        _S.c.quantity,
                        held,
                    )  # fmt: skip
                    .select_from(
                        _S.outerjoin(
                            _P,
                            sa.and_(_P.c.connection_id == _S.c.connection_id, _P.c.item_id == _S.c.item_id),
                        )
                    )
                    .where(_S.c.connection_id == connection_id, _S.c.item_id.in_(chunk))
                    .limit(500)
                )
                found += [
                    ErpCandidate(item, location, lot_or_none(lot), sku, name, ndc, quantity, bool(mapped))
                    for item, location, lot, sku, name, ndc, quantity, mapped in session.execute(query)
                ]
        return found

    def atlas_place(self, connection_id: str, atlas_id: str) -> tuple[str | None, Decimal | None]:
        """(location code, quantity) of an Atlas row as last read."""
        query = sa.select(_A.c.location, _A.c.quantity).where(
            _A.c.connection_id == connection_id, _A.c.atlas_id == atlas_id
        )
        with self._store.session() as session:
            row = session.execute(query).first()
        return (row[0], row[1]) if row else (None, None)
