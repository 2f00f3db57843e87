"""An Atlas row belongs to one connection: who claims a row across the profile, and doubles from before."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import sqlalchemy as sa

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.ownership import DOUBLE_NOTE, Claim, Double
from atlas_desktop.store.decisions import touch_bases
from atlas_desktop.store.sqlutil import IN_CHUNK, chunked

# A mapping in these statuses pairs its Atlas row with an ERP position: it claims the row. (Ignored and
# one-sided rows do not: nothing is synced through them.)
CLAIMING = (MappingStatus.MATCHED, MappingStatus.CONFLICT)
_CLAIMING_SQL = ", ".join(f"'{status.value}'" for status in CLAIMING)


class MappedElsewhere(ConfigError):
    """A manual mapping refused: the Atlas row is mapped by another connection of the profile."""

    def __init__(self, atlas_inventory_id: str, claim: Claim) -> None:
        super().__init__(
            "atlas_inventory_id",
            f"Atlas row {atlas_inventory_id} is already mapped by connection '{claim.connection_name}' "
            f"(mapping {claim.mapping_id})",
            fix=f"An Atlas row belongs to one connection: unmap it in '{claim.connection_name}' first, "
            "or pick another Atlas row.",
        )
        self.claim = claim


@dataclass(frozen=True)
class Doubles:
    """What settle_doubles found: `found` newly marked (report them), `held` marked before, `released`."""

    found: list[Double] = field(default_factory=list)
    held: int = 0
    released: int = 0

    @property
    def total(self) -> int:
        return len(self.found) + self.held


def connection_names(connection: sa.Connection) -> dict[str, str]:
    """Every connection of the profile: id -> name (one Atlas account serves them all)."""
    rows = connection.exec_driver_sql("SELECT id, connection_name FROM erp_connections")
    return {str(row_id): str(name) for row_id, name in rows}


def other_connections(connection: sa.Connection, connection_id: str) -> dict[str, str]:
    return {cid: name for cid, name in connection_names(connection).items() if cid != connection_id}


def claims(connection: sa.Connection, others: dict[str, str], atlas_ids: Collection[str]) -> dict[str, Claim]:
    """Atlas id -> the claim another connection (of `others`) holds on it, for the ids given."""
    found: dict[str, Claim] = {}
    if not others or not atlas_ids:
        return found
    # Both IN lists probe the (connection_id, atlas_inventory_id) index: a few connections, not a scan.
    # `+status` keeps SQLite off the (connection_id, status) index, which walks all their pairs per batch.
    in_others = ", ".join("?" for _ in others)
    for chunk in chunked(sorted(set(atlas_ids)), IN_CHUNK):
        in_ids = ", ".join("?" for _ in chunk)
        rows = connection.exec_driver_sql(
            f"SELECT atlas_inventory_id, connection_id, id FROM erp_inventory_mappings "
            f"WHERE connection_id IN ({in_others}) AND atlas_inventory_id IN ({in_ids}) "
            f"AND +status IN ({_CLAIMING_SQL}) ORDER BY id",
            (*others, *chunk),
        )
        for atlas_id, owner, mapping_id in rows:
            found.setdefault(atlas_id, Claim(owner, others[owner], int(mapping_id)))
    return found


def settle_doubles(connection: sa.Connection, connection_id: str) -> Doubles:
    """Mark this connection's pairs another connection also maps (status conflict, note naming it), and
    lift the mark where the double is gone.

    Neither side of a double syncs: the merge and the product master take matched rows only. A sale made
    meanwhile is not lost: once the user unmaps one side, the other merges against its kept base.
    """
    others = other_connections(connection, connection_id)
    doubled: dict[int, Double] = {}
    marked: set[int] = set()
    if others:
        rows = connection.exec_driver_sql(
            f"SELECT m.id, m.atlas_inventory_id, m.status, o.connection_id, o.id "
            f"FROM erp_inventory_mappings m JOIN erp_inventory_mappings o "
            f"ON o.connection_id IN ({', '.join('?' for _ in others)}) "
            f"AND o.atlas_inventory_id = m.atlas_inventory_id AND +o.status IN ({_CLAIMING_SQL}) "
            f"WHERE m.connection_id = ? AND m.status IN ({_CLAIMING_SQL}) ORDER BY m.id, o.id",
            (*others, connection_id),
        )
        for mapping_id, atlas_id, status, owner, other_id in rows:
            if mapping_id in doubled:
                continue
            doubled[mapping_id] = Double(mapping_id, atlas_id, Claim(owner, others[owner], int(other_id)))
            if status == MappingStatus.CONFLICT.value:
                marked.add(mapping_id)
    found = [double for mapping_id, double in doubled.items() if mapping_id not in marked]
    if found:
        connection.exec_driver_sql(
            "UPDATE erp_inventory_mappings SET status = ?, note = ? WHERE id = ?",
            [(MappingStatus.CONFLICT.value, double.message[:300], double.mapping_id) for double in found],
        )
    stale = [
        row_id
        for (row_id,) in connection.exec_driver_sql(
            "SELECT id FROM erp_inventory_mappings WHERE connection_id = ? AND status = ? AND note LIKE ?",
            (connection_id, MappingStatus.CONFLICT.value, f"%{DOUBLE_NOTE}%"),
        )
        if row_id not in doubled
    ]
    _lift(connection, stale)
    return Doubles(found, held=len(marked), released=len(stale))


def release_doubles(connection: sa.Connection, atlas_ids: Collection[str]) -> int:
    """Lift the double mark at once where unmapping one side left a row to a single connection."""
    everyone = connection_names(connection)
    if not everyone or not atlas_ids:
        return 0
    in_all = ", ".join("?" for _ in everyone)
    marked = connection.exec_driver_sql(
        f"SELECT id, connection_id, atlas_inventory_id FROM erp_inventory_mappings "
        f"WHERE connection_id IN ({in_all}) AND atlas_inventory_id IN ({', '.join('?' for _ in atlas_ids)}) "
        "AND status = ? AND note LIKE ?",
        (*everyone, *atlas_ids, MappingStatus.CONFLICT.value, f"%{DOUBLE_NOTE}%"),
    ).all()
    single = [
        row_id
        for row_id, owner, atlas_id in marked
        if atlas_id not in claims(connection, {c: n for c, n in everyone.items() if c != owner}, [atlas_id])
    ]
    _lift(connection, single)
    return len(single)


def _lift(connection: sa.Connection, mapping_ids: list[int]) -> None:
    """Back to matched. The base is touched so the next run merges the key even if no side is read
    again: a sale made while the double held it is carried then, not left for a full merge."""
    if not mapping_ids:
        return
    connection.exec_driver_sql(
        "UPDATE erp_inventory_mappings SET status = ?, note = NULL WHERE id = ?",
        [(MappingStatus.MATCHED.value, row_id) for row_id in mapping_ids],
    )
    touch_bases(connection, mapping_ids)
