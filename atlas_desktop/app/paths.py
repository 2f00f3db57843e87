"""Where a profile's data lives: the user data dir, or ATLAS_DESKTOP_HOME (tests, demo, services)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

HOME_ENV = "ATLAS_DESKTOP_HOME"


@dataclass(frozen=True)
class ProfilePaths:
    """The files of one profile. Everything the app writes stays under `root`."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "atlas.db"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def log_file(self) -> Path:
        return self.logs / "atlas-desktop.log"

    @property
    def locks(self) -> Path:
        return self.root / "locks"

    @property
    def settings(self) -> Path:
        return self.root / "settings.json"

    def ensure(self) -> ProfilePaths:
        # Owner-only: the folder holds encrypted credentials and logs of business data. A folder that
        # already exists (`--home ~/shared`) keeps its mode: it may hold other things, and changing
        # it behind the user's back is not ours to do; `others_can_enter` lets the caller warn instead.
        for folder in (self.root, self.logs):
            if folder.is_dir():
                continue
            folder.mkdir(parents=True, exist_ok=True)
            try:
                folder.chmod(0o700)
            except OSError:  # pragma: no cover - filesystems without modes (FAT, some Windows shares)
                pass
        return self

    def others_can_enter(self) -> bool:
        """True when users other than the owner may list or enter the profile folder (POSIX modes)."""
        try:
            return os.name == "posix" and bool(self.root.stat().st_mode & 0o077)
        except OSError:
            return False


def default_root(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    override = env.get(HOME_ENV, "").strip()
    if override:
        return Path(override).expanduser().resolve()
    return Path(platformdirs.user_data_dir("atlas-desktop", "Atlas", roaming=False))


def profile_paths(root: Path | None = None) -> ProfilePaths:
    return ProfilePaths(root or default_root())
