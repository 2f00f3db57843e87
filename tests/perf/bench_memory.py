"""Peak resident memory of this process, for the benchmark workers.

Not `ru_maxrss`: on Linux a process's ru_maxrss keeps the high-water mark of the memory it was exec'd
from, so a worker spawned by the bench process (which holds the emulators and their 100k-item
catalogs) reported the bench's own peak (402 MB for every incremental run at 100k) instead of its own.
`VmHWM` is the high-water mark of this process's own address space, which exec starts afresh.
"""

from __future__ import annotations

import resource
from pathlib import Path

_STATUS = Path("/proc/self/status")


def peak_rss_mb() -> float:
    """The highest resident set size this process has had, in MiB (imports included)."""
    if _STATUS.exists():
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    # Elsewhere (macOS: bytes) ru_maxrss is the best there is; the parent's peak may leak into it.
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if maxrss > 2**24 else maxrss / 1024
