"""Interpreter settings for the long-running processes: rare, short GC pauses; the GIL soon for the GUI."""

from __future__ import annotations

import gc
import sys

# Why: a sync streams 100k+ rows through short-lived objects, and with CPython's default thresholds
# (700, 10, 10) a full (generation 2) collection runs every few seconds. A full pass walks every tracked
# object in the process — Qt wrappers, SQLAlchemy and httpx internals, the run's drafts — holding the
# GIL, so the window freezes whichever thread triggered it. Hence:
# - young passes walk at most ~10k new objects, middle ones ~30k: short enough for the window not to stall;
# - a full pass waits for 2,500 middle passes (~50M net allocations, a few large syncs; CPython also
#   waits until the old generation grew by 25%), so reference cycles are still freed, just rarely;
# - `freeze()` takes the start-up heap (imports, services, the window) out of every later pass.
YOUNG_THRESHOLD = 10_000  # net allocations before a generation 0 pass
MIDDLE_THRESHOLD = 2  # generation 0 passes per generation 1 pass
OLD_THRESHOLD = 2500  # generation 1 passes before a full pass is considered
THRESHOLDS = (YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)

# Why: while the DB thread runs Python for long (discovery, audit), the GUI thread must ask for the GIL
# for every Qt event that reaches a Python object and every slot it calls; each ask waits up to one
# switch interval (5 ms by default). Painting and timers need dozens per frame, so the window falls
# far behind; a shorter interval does not slow the sync. Each GIL round trip of the GUI thread costs about
# one interval while another thread runs Python, so the interval is short: a quarter of a millisecond.
GUI_SWITCH_INTERVAL_S = 0.00025


def tune_gc() -> None:
    """Call as early as possible in the process: fewer, shorter collections from then on."""
    gc.set_threshold(*THRESHOLDS)


def favour_the_gui_thread() -> None:
    """For the window's process: a thread waiting for the GIL gets it soon."""
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)


def freeze_startup_heap() -> None:
    """Call once start-up is done (imports, services, window built): what is alive now lives as long as
    the process, so no later collection needs to walk it again."""
    gc.freeze()
