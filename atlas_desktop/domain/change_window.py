"""What the last run that merged leaves for the next one to look at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ChangeWindow:
    """The keys a run merges after an earlier one, told by three marks of that earlier run.

    - `read_since`: when its reads ended. A row read before then, it merged (or skipped as busy and
      touched its base, see `moved_since`); one read from then on is new to the merge.
    - `moved_since`: when it started. A base that moved from then on may free a key that waited (a write
      confirmed, a conflict resolved, a skipped key touched)...
    - `decided_by`: ...unless that run's own decision moved it: the key was merged then.
    """

    moved_since: datetime
    read_since: datetime
    decided_by: int | None = None

    @classmethod
    def since(cls, moment: datetime) -> ChangeWindow:
        """Every row read and every base moved from `moment` on."""
        return cls(moment, moment)
