"""ERP item names against the names last seen: renames to carry to Atlas, and first sights to note."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atlas_desktop.domain.change_window import ChangeWindow
from atlas_desktop.domain.enums import DecisionStatus, MappingStatus
from atlas_desktop.domain.product_master import ProductMasterDiff
from atlas_desktop.store.db import Store
from atlas_desktop.store.decisions import key_scope_sql
from atlas_desktop.store.merge_inputs import CHANGED_IDS_SQL, window_params
from atlas_desktop.store.sqlutil import IN_CHUNK, chunked

_ERP_NAME = (
    "(SELECT p.name FROM erp_products p WHERE p.connection_id = m.connection_id "
    "AND p.item_id = m.erp_item_id AND p.name != '')"
)
# A pair seen for the first time (no name seen yet) takes the ERP's name as its base: set-based, so a
# first sync of 100k items holds no name in memory, and a first sight never rewrites an Atlas name.
_FIRST_SIGHT_SQL = (
    f"UPDATE erp_inventory_mappings AS m SET erp_name_seen = {_ERP_NAME} "
    f"WHERE m.connection_id = :connection_id AND m.status = '{MappingStatus.MATCHED}' "
    "AND m.erp_name_seen IS NULL {extra}"
)
_NAME_DIFF_SQL = (
    f"SELECT m.id, a.atlas_id, a.version, a.name, p.name, {key_scope_sql()}, m.erp_name_seen "
    "FROM erp_inventory_mappings m "
    "JOIN atlas_rows a ON a.connection_id = m.connection_id AND a.atlas_id = m.atlas_inventory_id "
    "JOIN erp_products p ON p.connection_id = m.connection_id AND p.item_id = m.erp_item_id "
    f"WHERE m.connection_id = :connection_id AND m.status = '{MappingStatus.MATCHED}' "
    "AND a.deleted = 0 AND p.name IS NOT NULL AND p.name != '' "
    "AND m.erp_name_seen IS NOT NULL AND m.erp_name_seen IS NOT p.name "
    "AND NOT EXISTS (SELECT 1 FROM sync_decisions d WHERE d.mapping_id = m.id "
    f"AND d.status = '{DecisionStatus.PENDING}') {{extra}} ORDER BY m.id"
)


# Names can come apart where the merge looks, and where the ERP product master was read again.
_NAMES_CHANGED_IDS_SQL = (
    CHANGED_IDS_SQL + " UNION SELECT m.id FROM erp_products p JOIN erp_inventory_mappings m "
    "ON m.connection_id = p.connection_id AND m.erp_item_id = p.item_id "
    "WHERE p.connection_id = :connection_id AND p.observed_at >= :read_since"
)
# Of those, the pairs whose ERP name is the one last seen are left out: neither the first sight (no name
# seen yet) nor the diff (a name seen, and another now) touches them.
_NAMES_TO_COMPARE_SQL = (
    f"SELECT k.id FROM ({_NAMES_CHANGED_IDS_SQL}) k JOIN erp_inventory_mappings m ON m.id = k.id "
    "WHERE m.erp_name_seen IS NULL OR NOT EXISTS (SELECT 1 FROM erp_products p "
    "WHERE p.connection_id = m.connection_id AND p.item_id = m.erp_item_id AND p.name = m.erp_name_seen)"
)


def product_master_diffs(
    store: Store, connection_id: str, changed_since: ChangeWindow | None = None
) -> list[ProductMasterDiff]:
    """Matched keys whose ERP item name changed since it was last seen (no write for them in flight).

    A pair without a name seen yet first adopts the ERP's current name (stored here): there is no change
    to carry on a first sight, whatever the Atlas row is called. With `changed_since`, only keys whose
    names can have come apart since then are looked at: those the merge looks at, and those whose ERP
    product was read again (found through indexes, like the merge's).
    """
    params: dict[str, Any] = {"connection_id": connection_id}
    with store.session() as session:
        connection = session.connection()
        if changed_since is None:
            connection.exec_driver_sql(_FIRST_SIGHT_SQL.format(extra=""), params)
            rows = connection.exec_driver_sql(_NAME_DIFF_SQL.format(extra=""), params).all()
        else:
            window = window_params(connection_id, changed_since)
            ids = sorted(row[0] for row in connection.exec_driver_sql(_NAMES_TO_COMPARE_SQL, window))
            rows = []
            for chunk in chunked(ids, IN_CHUNK):
                extra = f"AND m.id IN ({', '.join(str(int(i)) for i in chunk)})"
                connection.exec_driver_sql(_FIRST_SIGHT_SQL.format(extra=extra), params)
                rows += connection.exec_driver_sql(_NAME_DIFF_SQL.format(extra=extra), params).all()
    return [
        ProductMasterDiff(int(r[0]), str(r[1]), int(r[2]), str(r[3] or ""), str(r[4]), str(r[5]), r[6])
        for r in rows
    ]


def note_erp_names(store: Store, seen: Sequence[tuple[int, str]]) -> None:
    """Record (mapping id, ERP name) as the names last seen: changes that need no write to Atlas."""
    if not seen:
        return
    with store.session() as session:
        session.connection().exec_driver_sql(
            "UPDATE erp_inventory_mappings SET erp_name_seen = ? WHERE id = ?",
            [(name, mapping_id) for mapping_id, name in seen],
        )
