"""`atlas-desktop --demo` in a real X server (Xvfb), as a newcomer starts it: the xcb platform plugin
loads with only the system packages the README names, a window titled "Atlas Desktop" is mapped, and
SIGTERM ends it cleanly. `.ci/run` installs Xvfb and sets ATLAS_REQUIRE_XVFB=1, so there a missing X
server fails the test instead of skipping it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def x_display(tmp_path: Path) -> Iterator[str]:
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        if os.environ.get("ATLAS_REQUIRE_XVFB") == "1":
            pytest.fail("Xvfb is not installed, but this CI run requires it (see .ci/run)")
        pytest.skip("Xvfb is not installed (Debian: apt install xvfb x11-utils)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as announced:
        number = announced.readline().strip()  # Xvfb writes its display number once it accepts clients
    try:
        assert number.isdigit(), "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def window_titles(display: str) -> str:
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree"], env={**os.environ, "DISPLAY": display}, capture_output=True,
        text=True, timeout=10, check=False,
    )  # fmt: skip
    return tree.stdout


def test_the_demo_opens_a_real_window_and_ends_cleanly(x_display: str, tmp_path: Path) -> None:
    if shutil.which("xwininfo") is None:
        pytest.skip("xwininfo (x11-utils) is not installed")
    home, temp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temp.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "QT_QPA_PLATFORM"}  # the real plugin
    env.update({"DISPLAY": x_display, "HOME": str(home), "TMPDIR": str(temp), "PYTHONPATH": str(ROOT),
                "ATLAS_DESKTOP_HOME": str(tmp_path / "profile"),
                "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "atlas_desktop", "--demo", "-v"], env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen: list[str] = []
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 90
        for line in process.stderr:
            seen.append(line)
            if "this is the window" in line or time.monotonic() > deadline:
                break
        assert process.poll() is None, "".join(seen[-20:])  # not Qt's SIGABRT on a missing xcb library
        titles = ""
        while time.monotonic() < deadline and "Atlas Desktop" not in titles:
            titles = window_titles(x_display)
            time.sleep(0.2)
        assert '"Atlas Desktop' in titles or '"Set up Atlas Desktop' in titles, titles[-2000:]
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, "".join(seen[-20:])
    assert not list(temp.iterdir()), list(temp.rglob("*"))
