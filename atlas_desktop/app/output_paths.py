"""Checks a file the user asks us to write (bundle, export): never inside the profile, never a device."""

from __future__ import annotations

import stat
from pathlib import Path

from atlas_desktop.domain.errors import ConfigError


def checked_output(out: Path, profile_root: Path, *, field: str, example: str) -> Path:
    """`out` made absolute, or a ConfigError saying why it cannot be written.

    The callers write to a temporary file beside `out` and rename it over; that rename would replace
    the profile's own database or vault, or a FIFO or device node someone pointed us at.
    """
    out = Path(out).expanduser().absolute()
    if not out.parent.is_dir():
        raise ConfigError(field, f"the folder {out.parent} does not exist", fix="Create it or pick another.")
    resolved = out.parent.resolve() / out.name
    root = Path(profile_root).expanduser().resolve()
    if resolved == root or root in resolved.parents:
        raise ConfigError(
            field,
            f"{out} is inside the Atlas Desktop data folder ({root})",
            fix=f"Write it somewhere else, e.g. your home folder ({example}).",
        )
    try:
        mode = out.lstat().st_mode
    except FileNotFoundError:
        return out
    if stat.S_ISDIR(mode):
        raise ConfigError(field, f"{out} is a folder", fix=f"Give a file name, e.g. {example}.")
    if not stat.S_ISREG(mode):
        raise ConfigError(
            field, f"{out} exists and is not an ordinary file", fix=f"Pick a new file name, e.g. {example}."
        )
    return out
