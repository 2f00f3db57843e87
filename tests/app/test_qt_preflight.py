"""The GUI's preflight: one line naming the packages or the missing display, instead of Qt's abort."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from atlas_desktop.app import qt_preflight
from atlas_desktop.app.qt_preflight import XCB_LIBRARIES, check, distribution, qt_platform

ROOT = Path(__file__).resolve().parents[2]
X11 = {"DISPLAY": ":0"}


def all_but(*absent: str):
    return lambda soname: soname not in absent


def test_missing_xcb_libraries_name_the_apt_packages() -> None:
    finder = all_but("libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    problem = check(X11, finder=finder, platform="linux", family="debian")
    assert problem is not None
    assert problem.missing == ("libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    assert "`sudo apt install libxcb-icccm4 libxcb-keysyms1` (Debian/Ubuntu)" in problem.line
    assert "dnf" not in problem.line
    assert "atlas-desktop agent" in problem.line
    assert "\n" not in problem.line


def test_fedora_gets_dnf_names_and_an_unknown_system_gets_both() -> None:
    finder = all_but("libxcb-cursor.so.0", "libxkbcommon-x11.so.0")
    fedora = check(X11, finder=finder, platform="linux", family="fedora")
    assert fedora is not None and "`sudo dnf install libxkbcommon-x11 xcb-util-cursor`" in fedora.line
    unknown = check(X11, finder=finder, platform="linux", family="")
    assert unknown is not None
    assert "apt install libxcb-cursor0 libxkbcommon-x11-0" in unknown.line and "dnf install" in unknown.line


def test_every_library_has_a_package_on_both_families() -> None:
    assert all(debian and fedora for debian, fedora in XCB_LIBRARIES.values())


def test_no_display_says_so_and_points_at_the_agent() -> None:
    problem = check({}, finder=all_but(), platform="linux")
    assert problem is not None and not problem.missing
    assert "no display" in problem.line and "atlas-desktop agent" in problem.line
    explicit_xcb = check({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, finder=all_but(),
                         platform="linux")  # fmt: skip
    assert explicit_xcb is not None and "no display" in explicit_xcb.line


def test_nothing_to_say_when_all_is_there_or_the_platform_needs_no_display() -> None:
    nothing = all_but(*XCB_LIBRARIES)  # every library missing: only the checks that look may complain
    assert check(X11, finder=all_but(), platform="linux") is None
    assert check({"QT_QPA_PLATFORM": "offscreen"}, finder=nothing, platform="linux") is None
    assert check({"QT_QPA_PLATFORM": "minimal:enable_fonts"}, finder=nothing, platform="linux") is None
    assert check({"WAYLAND_DISPLAY": "wayland-0"}, finder=nothing, platform="linux") is None
    wayland_and_xwayland = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    assert check(wayland_and_xwayland, finder=nothing, platform="linux") is None
    assert check({}, finder=nothing, platform="win32") is None
    assert check({}, finder=nothing, platform="darwin") is None


def test_platform_name_and_distribution_parsing(tmp_path) -> None:
    assert qt_platform({"QT_QPA_PLATFORM": " XCB:foo=1;wayland"}) == "xcb"
    assert qt_platform({}) == ""
    release = tmp_path / "os-release"
    release.write_text('ID=linuxmint\nID_LIKE="ubuntu debian"\n')
    assert distribution(release) == "debian"
    release.write_text('ID="rocky"\nID_LIKE="rhel centos fedora"\n')
    assert distribution(release) == "fedora"
    assert distribution(tmp_path / "absent") == ""


def test_the_real_finder_finds_libc_and_not_a_made_up_library() -> None:
    assert qt_preflight.can_load("libc.so.6")
    assert not qt_preflight.can_load("libatlas-desktop-no-such-thing.so.9")


def test_the_gui_without_a_display_exits_1_with_one_line_and_writes_nothing(tmp_path) -> None:
    home, profile = tmp_path / "home", tmp_path / "profile"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "ATLAS_DESKTOP_HOME": str(profile), "PYTHONPATH": str(ROOT)}
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    for extra in ([], ["--demo"]):
        result = subprocess.run([sys.executable, "-m", "atlas_desktop", *extra], env=env, cwd=ROOT,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith("error: there is no display"), result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert "Reinstalling" not in result.stderr and result.stdout == ""
    assert not profile.exists() and not list(home.iterdir())


# In every base system (and not what a desktop is missing): not for the preflight to name.
BASE = ("libc.so", "libm.so", "libstdc++.so", "libgcc_s.so", "libpthread.so", "libdl.so", "librt.so",
        "ld-linux", "libz.so", "libzstd.so")  # fmt: skip


def test_every_system_library_the_installed_xcb_chain_links_is_checked() -> None:
    readelf = shutil.which("readelf")
    spec = importlib.util.find_spec("PySide6")
    if readelf is None or spec is None or spec.origin is None or not sys.platform.startswith("linux"):
        pytest.skip("needs readelf and PySide6's Linux wheel")
    qt = Path(spec.origin).parent / "Qt"
    modules = ("Core", "Gui", "Widgets", "XcbQpa", "DBus")
    chain = [qt / "plugins" / "platforms" / "libqxcb.so", *(qt / "lib" / f"libQt6{m}.so.6" for m in modules)]
    needed: set[str] = set()
    for library in chain:
        dynamic = subprocess.run([readelf, "-d", str(library)], capture_output=True, text=True, check=True)
        needed |= {
            line.split("[", 1)[1].rstrip("]") for line in dynamic.stdout.splitlines() if "(NEEDED)" in line
        }
    system = {name for name in needed if not (qt / "lib" / name).exists() and not name.startswith(BASE)}
    assert system and system <= set(XCB_LIBRARIES), sorted(system - set(XCB_LIBRARIES))


def named(text: str, tool: str) -> list[str]:
    return text.split(f"`sudo {tool} install ", 1)[1].split("`", 1)[0].split()


def test_the_readme_names_every_package_the_preflight_may_ask_for() -> None:
    # `.ci/run` installs the README's minimal-system line; the preflight names packages from its table.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.split("## Get started", 1)[1].split("minimal system or in a container", 1)[1]
    apt, dnf = (named(start, tool) for tool in ("apt", "dnf"))
    assert sorted(apt) == sorted({debian for debian, _ in XCB_LIBRARIES.values()})
    assert sorted(dnf) == sorted({fedora for _, fedora in XCB_LIBRARIES.values()})
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "minimal system or in a container" in ci and '"${xcb_packages[@]}"' in ci
