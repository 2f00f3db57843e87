"""Start at login, per platform: an XDG autostart entry, a macOS LaunchAgent, or the Windows HKCU Run key.

The content builders are pure functions (tested on every platform); `enable`, `disable` and `is_enabled`
apply them for the current user only: no administrator rights, nothing outside the user's own settings.
"""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

from atlas_desktop.domain.errors import ConfigError

APP_ID = "atlas-desktop"
DISPLAY_NAME = "Atlas Desktop"
# The same reverse-DNS name as the macOS bundle identifier (packaging/bundle_config.py).
LAUNCH_AGENT_LABEL = "pharma.atlas.desktop"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE_NAME = DISPLAY_NAME

# Desktop Entry spec, "The Exec key": characters that force quoting, and those escaped inside quotes.
_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
_EXEC_ESCAPED = {'"', "`", "$", "\\"}


# ---- what to start --------------------------------------------------------------------------------
def launch_command(
    *, frozen: bool | None = None, executable: str | None = None, platform: str | None = None
) -> list[str]:
    """The command that starts this installation's window: the bundle's executable, or this Python.

    On Windows the bundle has a console-less twin (`atlas-desktop-gui.exe`): login must not open a console.
    """
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    executable = executable or sys.executable
    platform = platform or sys.platform
    if not frozen:
        if platform == "win32":
            windowless = Path(executable).with_name("pythonw.exe")
            if windowless.exists():
                executable = str(windowless)
        return [executable, "-m", "atlas_desktop"]
    if platform == "win32":
        gui = Path(executable).with_name(f"{APP_ID}-gui.exe")
        if gui.exists():
            return [str(gui)]
    return [executable]


def _check_command(command: Sequence[str]) -> list[str]:
    if not command or not all(isinstance(part, str) and part for part in command):
        raise ConfigError("autostart.command", "needs a program and non-empty arguments")
    if any("\n" in part or "\r" in part or "\x00" in part for part in command):
        raise ConfigError("autostart.command", "cannot contain line breaks or NUL characters")
    return list(command)


# ---- Linux and other XDG desktops -----------------------------------------------------------------
def xdg_autostart_path(env: Mapping[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/autostart/atlas-desktop.desktop (XDG Autostart spec; default ~/.config)."""
    env = os.environ if env is None else env
    config = env.get("XDG_CONFIG_HOME", "").strip()
    base = Path(config) if config and Path(config).is_absolute() else Path.home() / ".config"
    return base / "autostart" / f"{APP_ID}.desktop"


def desktop_exec(command: Sequence[str]) -> str:
    """The Exec value: quoted per the Desktop Entry spec, then string-escaped (backslashes doubled)."""
    parts = []
    for arg in _check_command(command):
        if any(ch in _EXEC_RESERVED for ch in arg):
            arg = '"' + "".join("\\" + ch if ch in _EXEC_ESCAPED else ch for ch in arg) + '"'
        parts.append(arg.replace("%", "%%"))
    # The string-value escaping applies on top of the quoting rule (so `\"` is written `\\"`).
    return " ".join(parts).replace("\\", "\\\\")


def xdg_autostart_entry(command: Sequence[str]) -> str:
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            f"Name={DISPLAY_NAME}",
            "Comment=Keeps your ERP and the Atlas marketplace in step",
            f"Exec={desktop_exec(command)}",
            f"Icon={APP_ID}",
            "Terminal=false",
            "Categories=Office;",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )


# ---- macOS ----------------------------------------------------------------------------------------
def launch_agent_path(home: Path | None = None) -> Path:
    return (home or Path.home()) / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"


def launch_agent_plist(command: Sequence[str]) -> bytes:
    """A per-user LaunchAgent that starts the app once at login (no KeepAlive: quitting means quit)."""
    return plistlib.dumps(
        {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": _check_command(command),
            "RunAtLoad": True,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",  # a GUI login, not an ssh session
        }
    )


# ---- Windows --------------------------------------------------------------------------------------
def windows_run_value(command: Sequence[str]) -> tuple[str, str]:
    """(value name, REG_SZ data) for HKCU\\...\\Run; the data is one command line quoted the Windows way."""
    return RUN_VALUE_NAME, subprocess.list2cmdline(_check_command(command))


def _winreg() -> ModuleType:
    import winreg  # Windows only; imported here so the module loads everywhere

    return winreg


def _windows_enable(command: Sequence[str]) -> str:
    winreg = _winreg()
    name, data = windows_run_value(command)
    with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
        winreg.SetValueEx(key, name, 0, winreg.REG_SZ, data)
    return f"HKCU\\{RUN_KEY}\\{name}"


def _windows_disable() -> bool:
    winreg = _winreg()
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            winreg.DeleteValue(key, RUN_VALUE_NAME)
    except FileNotFoundError:
        return False
    return True


def _windows_enabled() -> bool:
    winreg = _winreg()
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_QUERY_VALUE) as key:
            winreg.QueryValueEx(key, RUN_VALUE_NAME)
    except FileNotFoundError:
        return False
    return True


# ---- the current platform -------------------------------------------------------------------------
def _write_atomic(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)  # a login never sees half a file


def enable(command: Sequence[str] | None = None, *, platform: str | None = None) -> str:
    """Start this app at the user's next login. Returns where the setting was written."""
    command = list(command) if command is not None else launch_command()
    platform = platform or sys.platform
    if platform == "win32":
        return _windows_enable(command)
    if platform == "darwin":
        path, content = launch_agent_path(), launch_agent_plist(command)
    else:
        path, content = xdg_autostart_path(), xdg_autostart_entry(command).encode()
    _write_atomic(path, content)
    return str(path)


def disable(*, platform: str | None = None) -> bool:
    """Stop starting at login. True if there was something to remove."""
    platform = platform or sys.platform
    if platform == "win32":
        return _windows_disable()
    path = launch_agent_path() if platform == "darwin" else xdg_autostart_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def is_enabled(*, platform: str | None = None) -> bool:
    platform = platform or sys.platform
    if platform == "win32":
        return _windows_enabled()
    return (launch_agent_path() if platform == "darwin" else xdg_autostart_path()).is_file()
