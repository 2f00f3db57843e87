"""Confirmed ERP quantity writes moved into the ERP stock mirror, so the review shows them at once.

Otherwise the review would show the two sides apart after a sale was carried to the ERP, until the next
pull read the ERP again. An Atlas write refreshes its mirror from the row the API returns; an ERP
adjustment returns no balance, so the mirror moves by the write's delta when the write is confirmed, in
the confirmation's own transaction (exactly once: only writes that become done here).

Only a mirror row read BEFORE the write was recorded moves: such a read cannot hold the write. A row read
since (a later run's pull, while the write was in doubt) may already hold it, and adding the delta again
would show — and merge — a change nobody made; it keeps what was read until the next pull. The row's
`observed_at` stays as it was: it says when the ERP was last read, which the incremental merge relies on.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa

from atlas_desktop.domain.model import Side
from atlas_desktop.store.models import ErpStockRow, OutboxRow
from atlas_desktop.store.sqlutil import IN_CHUNK, chunked, decimal_text, same_lot

_OUTBOX = OutboxRow.__table__
_STOCK = ErpStockRow.__table__
_QUANTITY_UPDATE = (
    "UPDATE erp_stock SET quantity = ? "
    "WHERE connection_id = ? AND item_id = ? AND location_id = ? AND lot = ?"
)


def _stock_join() -> sa.ColumnElement[bool]:
    payload = _OUTBOX.c.payload
    return sa.and_(
        _STOCK.c.connection_id == _OUTBOX.c.connection_id,
        _STOCK.c.item_id == sa.func.json_extract(payload, "$.item_id"),
        _STOCK.c.location_id == sa.func.json_extract(payload, "$.location_id"),
        same_lot(sa.func.json_extract(payload, "$.lot"), _STOCK.c.lot),
    )


def carry_confirmed_erp_writes(connection: sa.Connection, outbox_ids: Sequence[int]) -> int:
    """Move the mirror rows of these newly confirmed writes by their ERP quantity deltas (the others,
    Atlas writes and writes without a delta, are left alone). Returns how many rows moved."""
    moved: dict[tuple[str, str, str, str], Decimal] = {}
    order = {outbox_id: position for position, outbox_id in enumerate(outbox_ids)}
    found: list[tuple[int, Decimal, str, str, str, str, Decimal]] = []  # delta non-null: filtered below
    for batch in chunked(outbox_ids, IN_CHUNK):
        found += connection.execute(
            sa.select(
                _OUTBOX.c.id,
                _OUTBOX.c.quantity_delta,
                _STOCK.c.connection_id,
                _STOCK.c.item_id,
                _STOCK.c.location_id,
                _STOCK.c.lot,
                _STOCK.c.quantity,
            )  # fmt: skip
            .select_from(_OUTBOX.join(_STOCK, _stock_join()))
            .where(
                _OUTBOX.c.id.in_(batch),
                _OUTBOX.c.target == Side.ERP,
                _OUTBOX.c.quantity_delta.is_not(None),
                _STOCK.c.observed_at < _OUTBOX.c.created_at,  # fixed-width UTC text: text order is time order
            )
        ).all()
    for _outbox_id, delta, *key, quantity in sorted(found, key=lambda row: order[row[0]]):
        where = (key[0], key[1], key[2], key[3])
        moved[where] = moved.get(where, quantity) + delta  # two writes to one row add up
    if moved:
        connection.exec_driver_sql(
            _QUANTITY_UPDATE, [(decimal_text(quantity), *where) for where, quantity in moved.items()]
        )
    return len(moved)
