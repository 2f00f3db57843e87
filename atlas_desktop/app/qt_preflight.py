"""Checks, before PySide6 loads, that Qt can open a window here; else one line saying what to do."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

# The system libraries Qt's xcb plugin and the Qt libraries it loads (Gui, Core, DBus, XcbQpa) link
# against, with the package that ships each on Debian/Ubuntu and on Fedora/RHEL. Qt aborts with
# "Reinstalling the application may fix this problem" when one is missing, which names neither the
# library nor the package. (libc, libstdc++, zlib and zstd are in every base system: not listed.)
XCB_LIBRARIES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
}

# Platforms that need no display server (tests, the self-test's rendering, VNC): nothing to check.
HEADLESS_PLATFORMS = {"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}

HEADLESS_HINT = "`atlas-desktop agent` is the headless way to run the syncs"

Finder = Callable[[str], bool]


@dataclass(frozen=True)
class Problem:
    """Why the window cannot open, as the one line to print; `missing` is empty when it is the display."""

    line: str
    missing: tuple[str, ...] = ()


def _bundled_dirs() -> list[Path]:
    """Where a wheel or a PyInstaller bundle carries its own copies (found without importing PySide6)."""
    dirs: list[Path] = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        dirs.append(Path(frozen_root))
    spec = importlib.util.find_spec("PySide6")
    if spec is not None and spec.origin:
        dirs.append(Path(spec.origin).parent / "Qt" / "lib")
    return dirs


def can_load(soname: str) -> bool:
    """dlopen by soname: the same search (LD_LIBRARY_PATH, ld.so cache, default dirs) Qt's loader does."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return any((folder / soname).exists() for folder in _bundled_dirs())
    return True


def qt_platform(env: Mapping[str, str]) -> str:
    """The platform Qt will try first: QT_QPA_PLATFORM's first name without options, or '' when unset."""
    value = env.get("QT_QPA_PLATFORM", "").strip()
    return value.split(";")[0].split(":")[0].strip().lower()


def missing_libraries(finder: Finder = can_load) -> tuple[str, ...]:
    return tuple(soname for soname in XCB_LIBRARIES if not finder(soname))


def distribution(os_release: Path = Path("/etc/os-release")) -> str:
    """'debian', 'fedora' or '' (unknown): which package names to give."""
    try:
        text = os_release.read_text(encoding="utf-8", errors="replace").lower()
    except OSError:
        return ""
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    family = " ".join(fields.get(key, "").strip('"') for key in ("id", "id_like"))
    if any(name in family.split() for name in ("debian", "ubuntu")):
        return "debian"
    if any(name in family.split() for name in ("fedora", "rhel", "centos")):
        return "fedora"
    return ""


def install_command(missing: tuple[str, ...], family: str) -> str:
    """`sudo apt install …` and/or `sudo dnf install …` for the packages shipping the missing libraries."""
    debian = sorted({XCB_LIBRARIES[soname][0] for soname in missing})
    fedora = sorted({XCB_LIBRARIES[soname][1] for soname in missing})
    apt = f"`sudo apt install {' '.join(debian)}` (Debian/Ubuntu)"
    dnf = f"`sudo dnf install {' '.join(fedora)}` (Fedora/RHEL)"
    if family == "debian":
        return apt
    if family == "fedora":
        return dnf
    return f"{apt} or {dnf}"


def libraries_problem(finder: Finder = can_load, family: str | None = None) -> Problem | None:
    missing = missing_libraries(finder)
    if not missing:
        return None
    family = distribution() if family is None else family
    return Problem(
        f"error: the window needs system libraries that are missing ({', '.join(missing)}): install "
        f"them with {install_command(missing, family)}, then start Atlas Desktop again; {HEADLESS_HINT}.",
        missing,
    )


def check(
    env: Mapping[str, str] | None = None,
    *,
    finder: Finder = can_load,
    platform: str = sys.platform,
    family: str | None = None,
) -> Problem | None:
    """None when Qt should open its window here; else the Problem to print (and exit 1) instead of
    letting Qt abort. Only Linux's xcb path needs it: Windows and macOS wheels carry what they need."""
    env = os.environ if env is None else env
    if not platform.startswith("linux"):
        return None
    chosen = qt_platform(env)
    if chosen in HEADLESS_PLATFORMS or chosen not in ("", "xcb"):
        return None  # chosen on purpose (offscreen, wayland…): Qt's own message is the user's to read
    if not env.get("DISPLAY") and not (chosen == "" and env.get("WAYLAND_DISPLAY")):
        return Problem(
            "error: there is no display to open the window on (DISPLAY is not set): start Atlas Desktop "
            f"from a desktop session, or over SSH with `ssh -X`; {HEADLESS_HINT}."
        )
    if chosen == "" and env.get("WAYLAND_DISPLAY"):
        return None  # a Wayland session: Qt picks its wayland plugin, which needs none of the xcb libraries
    return libraries_problem(finder, family)
