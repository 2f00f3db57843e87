"""Linux desktop entry, AppStream metadata, the agent's systemd unit, and the shell scripts."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from atlas_desktop import __version__

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
SCRIPTS = [ROOT / "packaging" / "build.sh", LINUX / "install.sh", LINUX / "atlas-agentctl"]
UNIT = LINUX / "atlas-desktop-agent.service"


def unit_settings(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_agent_unit_is_hardened_and_gets_the_passphrase_from_a_root_only_file() -> None:
    settings = unit_settings(UNIT.read_text(encoding="utf-8"))
    expected = {
        "User": "atlas",
        "ExecStart": "/opt/atlas-desktop/atlas-desktop agent",
        "EnvironmentFile": "/etc/atlas-desktop/agent.env",
        "Restart": "on-failure",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "ReadWritePaths": "/var/lib/atlas-desktop",
        "StateDirectory": "atlas-desktop",
    }
    for key, value in expected.items():
        assert settings.get(key) == [value], key
    assert "ATLAS_DESKTOP_HOME=/var/lib/atlas-desktop" in settings["Environment"]
    assert not any("PASSPHRASE" in value for value in settings["Environment"]), "never in the unit itself"
    install = (LINUX / "install.sh").read_text(encoding="utf-8")
    assert 'chmod 0600 "$conf/agent.env"' in install and 'chown root:root "$conf/agent.env"' in install


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(tmp_path) -> None:
    text = UNIT.read_text(encoding="utf-8").replace("/opt/atlas-desktop/atlas-desktop agent", "/bin/true")
    unit = tmp_path / UNIT.name
    unit.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    problems = [line for line in result.stderr.splitlines() if UNIT.name in line]
    assert result.returncode == 0 and not problems, result.stderr


def test_desktop_entry_matches_the_apps_desktop_file_name() -> None:
    text = (LINUX / "atlas-desktop.desktop").read_text(encoding="utf-8")
    assert re.search(r"^Exec=atlas-desktop$", text, re.MULTILINE)
    assert re.search(r"^Icon=atlas-desktop$", text, re.MULTILINE)
    # ui: app.setDesktopFileName("atlas-desktop") must name this file, or Wayland shows no icon.
    gui = (ROOT / "atlas_desktop" / "app" / "gui.py").read_text(encoding="utf-8")
    assert 'setDesktopFileName("atlas-desktop")' in gui


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_entry_is_valid() -> None:
    result = subprocess.run(["desktop-file-validate", str(LINUX / "atlas-desktop.desktop")],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_metainfo_names_the_launcher_and_the_current_release() -> None:
    root = ET.parse(LINUX / "pharma.atlas.desktop.metainfo.xml").getroot()
    assert root.findtext("id") == "pharma.atlas.desktop"
    assert root.findtext("launchable") == "atlas-desktop.desktop"
    releases = [release.get("version") for release in root.iter("release")]
    assert releases and releases[0] == __version__, "add a <release> for the new version (newest first)"


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli is not installed")
def test_metainfo_passes_appstream_validation() -> None:
    metainfo = LINUX / "pharma.atlas.desktop.metainfo.xml"
    command = ["appstreamcli", "validate", "--no-net", str(metainfo)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_parse_and_are_executable(script: Path) -> None:
    shell = "bash" if script.read_text().startswith("#!/usr/bin/env bash") else "sh"
    assert subprocess.run([shell, "-n", str(script)], capture_output=True).returncode == 0
    assert script.stat().st_mode & 0o111


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="apt install shellcheck")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_are_shellcheck_clean(script: Path) -> None:
    result = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_build_script_names_the_documented_output() -> None:
    text = (ROOT / "packaging" / "build.sh").read_text(encoding="utf-8")
    assert "exe=dist/atlas-desktop/atlas-desktop" in text
    assert '"$exe" selftest' in text and '"$exe" --version' in text
    install_doc = (ROOT / "docs" / "INSTALL.md").read_text(encoding="utf-8")
    assert "packaging/build.sh" in install_doc and "ATLAS_DESKTOP_PASSPHRASE" in install_doc
