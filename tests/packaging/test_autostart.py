"""Start at login: the entry each platform reads, and enable/disable for real on this (XDG) system."""

from __future__ import annotations

import configparser
import plistlib
import subprocess
import sys

import pytest

from atlas_desktop.app import autostart
from atlas_desktop.domain.errors import ConfigError

COMMAND = ["/opt/Atlas Desktop/atlas-desktop", "--home", "/data/it's $HOME/100%"]


def read_desktop(text: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive in desktop entries
    parser.read_string(text)
    return parser["Desktop Entry"]


def unescape_exec(value: str) -> list[str]:
    """The reader's side of the Desktop Entry spec: string unescape, then the quoting rule, then %% -> %."""
    value = value.replace("\\\\", "\\")
    args: list[str] = []
    current, quoted, escaped, started = "", False, False, False
    for ch in value:
        if escaped:
            current, escaped = current + ch, False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted, started = not quoted, True
        elif ch == " " and not quoted:
            if current or started:
                args.append(current)
            current, started = "", False
        else:
            current += ch
    assert not quoted and not escaped, "unbalanced quoting"
    if current or started:
        args.append(current)
    return [arg.replace("%%", "%") for arg in args]


def test_xdg_entry_starts_the_command_with_every_argument_intact() -> None:
    entry = read_desktop(autostart.xdg_autostart_entry(COMMAND))
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Atlas Desktop"
    assert entry["Icon"] == "atlas-desktop"
    assert unescape_exec(entry["Exec"]) == COMMAND


def test_exec_quoting_escapes_what_the_spec_reserves() -> None:
    assert autostart.desktop_exec(["/usr/bin/atlas-desktop"]) == "/usr/bin/atlas-desktop"
    # `"` inside quotes becomes \" and then the backslash itself is string-escaped: \\"
    assert autostart.desktop_exec(['a"b']) == '"a\\\\"b"'
    assert autostart.desktop_exec(["50%"]) == "50%%"


@pytest.mark.skipif(subprocess.run(["which", "desktop-file-validate"], capture_output=True).returncode != 0,
                    reason="desktop-file-validate is not installed")  # fmt: skip
def test_xdg_entry_passes_desktop_file_validate(tmp_path) -> None:
    path = tmp_path / "atlas-desktop.desktop"
    path.write_text(autostart.xdg_autostart_entry(COMMAND))
    result = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_enable_and_disable_on_linux_for_real(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert not autostart.is_enabled(platform="linux")
    where = autostart.enable(["/usr/bin/atlas-desktop"], platform="linux")
    path = tmp_path / "config" / "autostart" / "atlas-desktop.desktop"
    assert where == str(path)
    assert autostart.is_enabled(platform="linux")
    assert read_desktop(path.read_text())["Exec"] == "/usr/bin/atlas-desktop"
    assert [p.name for p in path.parent.iterdir()] == ["atlas-desktop.desktop"]  # no partial file left
    autostart.enable(["/opt/new/atlas-desktop"], platform="linux")  # enabling again replaces the entry
    assert read_desktop(path.read_text())["Exec"] == "/opt/new/atlas-desktop"
    assert autostart.disable(platform="linux") is True
    assert not path.exists() and not autostart.is_enabled(platform="linux")
    assert autostart.disable(platform="linux") is False


def test_relative_xdg_config_home_is_ignored_as_the_spec_says(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    path = autostart.xdg_autostart_path({"XDG_CONFIG_HOME": "relative/dir"})
    assert path == tmp_path / ".config" / "autostart" / "atlas-desktop.desktop"


def test_launch_agent_plist_runs_the_command_once_at_login() -> None:
    plist = plistlib.loads(autostart.launch_agent_plist(COMMAND))
    assert plist["Label"] == "pharma.atlas.desktop"
    assert plist["ProgramArguments"] == COMMAND
    assert plist["RunAtLoad"] is True
    assert "KeepAlive" not in plist  # quitting the app must not relaunch it
    assert autostart.launch_agent_path(tmp := autostart.Path("/Users/x")) == (
        tmp / "Library" / "LaunchAgents" / "pharma.atlas.desktop.plist"
    )


def test_enable_on_macos_writes_the_launch_agent(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    autostart.enable(COMMAND, platform="darwin")
    path = tmp_path / "Library" / "LaunchAgents" / "pharma.atlas.desktop.plist"
    assert plistlib.loads(path.read_bytes())["ProgramArguments"] == COMMAND
    assert autostart.is_enabled(platform="darwin")
    assert autostart.disable(platform="darwin") and not path.exists()


def test_windows_run_value_is_one_correctly_quoted_command_line() -> None:
    exe = r"C:\Program Files\Atlas Desktop\atlas-desktop-gui.exe"
    name, data = autostart.windows_run_value([exe, "--demo"])
    assert name == "Atlas Desktop"
    assert data == r'"C:\Program Files\Atlas Desktop\atlas-desktop-gui.exe" --demo'


class FakeKey:
    def __enter__(self) -> FakeKey:
        return self

    def __exit__(self, *args: object) -> None:
        return None


class FakeWinreg:
    """Just enough of winreg to check what enable/disable write under HKCU\\...\\Run."""

    HKEY_CURRENT_USER = "HKCU"
    KEY_SET_VALUE = KEY_QUERY_VALUE = 0
    REG_SZ = 1

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], tuple[int, str]] = {}

    def CreateKeyEx(self, root, path, reserved, access):  # noqa: N802 - winreg's names
        self.path = (root, path)
        return FakeKey()

    OpenKey = CreateKeyEx  # noqa: N815

    def SetValueEx(self, key, name, reserved, kind, data):  # noqa: N802
        self.values[(self.path[1], name)] = (kind, data)

    def QueryValueEx(self, key, name):  # noqa: N802
        if (self.path[1], name) not in self.values:
            raise FileNotFoundError(name)
        return self.values[(self.path[1], name)]

    def DeleteValue(self, key, name):  # noqa: N802
        if self.values.pop((self.path[1], name), None) is None:
            raise FileNotFoundError(name)


def test_enable_on_windows_sets_the_hkcu_run_value(monkeypatch) -> None:
    fake = FakeWinreg()
    monkeypatch.setattr(autostart, "_winreg", lambda: fake)
    where = autostart.enable([r"C:\Apps\atlas-desktop-gui.exe"], platform="win32")
    assert where == r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run\Atlas Desktop"
    assert fake.path == ("HKCU", r"Software\Microsoft\Windows\CurrentVersion\Run")
    assert fake.values == {(autostart.RUN_KEY, "Atlas Desktop"): (1, r"C:\Apps\atlas-desktop-gui.exe")}
    assert autostart.is_enabled(platform="win32")
    assert autostart.disable(platform="win32") is True
    assert not autostart.is_enabled(platform="win32")
    assert autostart.disable(platform="win32") is False


def test_launch_command_from_source_and_from_a_bundle(tmp_path) -> None:
    assert autostart.launch_command(frozen=False, executable="/usr/bin/python3", platform="linux") == [
        "/usr/bin/python3", "-m", "atlas_desktop",
    ]  # fmt: skip
    exe = tmp_path / "atlas-desktop.exe"
    assert autostart.launch_command(frozen=True, executable=str(exe), platform="win32") == [str(exe)]
    (tmp_path / "atlas-desktop-gui.exe").touch()  # the bundle's console-less twin is preferred at login
    assert autostart.launch_command(frozen=True, executable=str(exe), platform="win32") == [
        str(tmp_path / "atlas-desktop-gui.exe")
    ]
    assert autostart.launch_command(frozen=True, executable="/opt/a/atlas-desktop", platform="linux") == [
        "/opt/a/atlas-desktop"
    ]
    assert autostart.launch_command()[0] == sys.executable


@pytest.mark.parametrize("command", [[], [""], ["/bin/app", "line\nbreak"]])
def test_a_bad_command_is_refused_with_the_field_named(command) -> None:
    with pytest.raises(ConfigError, match="autostart.command"):
        autostart.xdg_autostart_entry(command)
