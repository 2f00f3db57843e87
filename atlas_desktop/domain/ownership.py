"""An Atlas row belongs to one connection: another connection's claim on it, and a pair mapped twice."""

from __future__ import annotations

from dataclasses import dataclass

# How a double is marked (status conflict, this note): the mark is lifted when the double is gone.
DOUBLE_NOTE = "also mapped by connection"


@dataclass(frozen=True, slots=True)
class Claim:
    """Another connection's mapping of an Atlas row."""

    connection_id: str
    connection_name: str
    mapping_id: int


@dataclass(frozen=True, slots=True)
class Double:
    """A pair of this connection whose Atlas row another connection maps too."""

    mapping_id: int
    atlas_inventory_id: str
    other: Claim

    @property
    def message(self) -> str:
        return (
            f"Atlas row {self.atlas_inventory_id} is {DOUBLE_NOTE} '{self.other.connection_name}' "
            f"(mapping {self.other.mapping_id}); unmap it in one of them"
        )
