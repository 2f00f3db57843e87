"""A file's path as people read it on screen: the home folder written as ~ where that is the custom."""

from __future__ import annotations

import os
from pathlib import Path


def shown_path(path: Path, home: Path | None = None) -> str:
    """`~/.local/share/…` rather than `/home/<name>/.local/share/…`: shorter, so the file name stays in
    view, and the same on every machine. Windows keeps the full path (~ means nothing in Explorer)."""
    if os.name == "nt":
        return str(path)
    try:
        home = home or Path.home()
        rest = path.relative_to(home)
    except (RuntimeError, ValueError):  # no home folder known, or the path lies outside it
        return str(path)
    return str(Path("~") / rest)
