"""What recording a discovery left and did, per mapping status."""

from __future__ import annotations

from dataclasses import dataclass

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.ownership import Double


@dataclass(frozen=True, slots=True)
class DiscoveryCounts:
    """Mappings per status after discovery, and what discovery did to get there."""

    matched: int = 0
    ambiguous: int = 0
    unmatched_atlas: int = 0
    unmatched_erp: int = 0
    conflict: int = 0
    ignored: int = 0
    kept: int = 0  # existing rows kept (manual ones, and auto ones the drafts confirmed)
    inserted: int = 0
    removed: int = 0  # auto rows no draft confirmed
    skipped: int = 0  # drafts touching a side a manual mapping already owns
    # Atlas rows left out because another connection of the profile maps them: (its name, how many).
    mapped_elsewhere: tuple[tuple[str, int], ...] = ()
    doubles: int = 0  # pairs here another connection maps too (from before the check): neither syncs
    new_doubles: tuple[Double, ...] = ()  # the doubles this discovery marked first: report them once

    def by_status(self) -> dict[MappingStatus, int]:
        return {status: getattr(self, status.value) for status in MappingStatus}
