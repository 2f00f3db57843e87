"""The README's 'Get started' commands stay true: the user's install is the app alone, the developer's
brings the test tools, and every name they use exists in pyproject and the command line."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

from atlas_desktop.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def get_started_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Get started", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S)]


def steps(block: str) -> list[list[str]]:
    return [shlex.split(part) for part in block.replace("\n", " && ").split("&&") if part.strip()]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_users_install_is_the_app_alone_and_starts_the_demo() -> None:
    user = steps(get_started_blocks()[0])
    # Editable: the icons and resources are read from this folder (a wheel would leave them behind).
    assert user[0] == ["python", "-m", "pip", "install", "-e", "."], user
    assert user[1][0] in pyproject()["project"]["scripts"]
    build_parser().parse_args(user[1][1:])  # `--demo` is an option the program takes
    assert user[1][1:] == ["--demo"]


def test_the_developers_install_brings_the_test_tools_and_runs_the_suite() -> None:
    developer = steps(get_started_blocks()[1])
    install, run = developer
    assert install[:5] == ["python", "-m", "pip", "install", "-e"], install
    extras = re.fullmatch(r"\.\[(.+)\]", install[5])
    assert extras is not None, install
    optional = pyproject()["project"]["optional-dependencies"]
    for extra in extras.group(1).split(","):
        assert extra in optional
    assert run == ["python", "-m", "pytest"]
    assert any(requirement.startswith("pytest>") for requirement in optional["test"])
    assert "testpaths" in pyproject()["tool"]["pytest"]["ini_options"]


def test_the_system_packages_are_named_in_get_started_for_each_family() -> None:
    from atlas_desktop.app.qt_preflight import XCB_LIBRARIES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Get started", 1)[1].split("\n## ", 1)[0]
    # The four libraries the PySide6 wheel does not find on a fresh desktop (the rest come with X11).
    for soname in ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0"):
        debian, fedora = XCB_LIBRARIES[soname]
        assert debian in section.split("apt install", 1)[1].split("`", 1)[0]
        assert fedora in section.split("dnf install", 1)[1].split("`", 1)[0]
