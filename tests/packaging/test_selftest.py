"""`run_selftest`: passes on a working installation, and says which check failed and why when one does."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from atlas_desktop.app import qt_preflight, selftest

ROOT = Path(__file__).resolve().parents[2]


def test_the_full_selftest_in_a_fresh_process(tmp_path) -> None:
    # A subprocess: the self-test creates its own QApplication, and must not lean on the test session's.
    env = {**os.environ, "HOME": str(tmp_path), "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    env.pop("QT_QPA_PLATFORM", None)  # the self-test chooses offscreen by itself to render
    env.pop("DISPLAY", None)  # no display: the platform check can only look at the libraries
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("ATLAS_DESKTOP_HOME", None)
    code = "from atlas_desktop.app.selftest import run_selftest; raise SystemExit(run_selftest())"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=90)  # fmt: skip
    lines = result.stdout.splitlines()
    for name in ("store", "vault", "sandbox", "window"):
        assert any(line.startswith(f"ok   {name}:") for line in lines), result.stdout
    assert "offscreen" in result.stdout
    # What the platform check says depends on this machine's X libraries: the preflight's verdict.
    missing = qt_preflight.missing_libraries() if sys.platform.startswith("linux") else ()
    if missing:
        assert any(line.startswith("FAIL platform:") and "install" in line for line in lines), result.stdout
        assert (result.returncode, lines[-1]) == (1, "self-test FAILED: platform")
    else:
        assert any(line.startswith(("skip platform:", "ok   platform:")) for line in lines), result.stdout
        assert (result.returncode, lines[-1]) == (0, "self-test passed"), result.stdout + result.stderr
    assert not list(tmp_path.iterdir()), "the self-test must not write into the user's home"


def test_the_platform_probe_starts_qt_on_the_sessions_platform_in_a_child() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    assert selftest.check_platform(env) == "Qt started on its 'offscreen' platform, as the window will"


def test_a_platform_plugin_that_cannot_start_fails_the_check_with_qts_words() -> None:
    # xcb towards a display nobody serves, libraries said present: Qt itself aborts in the child.
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": ":97", "PYTHONPATH": str(ROOT)}
    result = selftest._run("platform", lambda: selftest.check_platform(env, finder=lambda soname: True))
    assert result.status == "FAIL"
    assert result.detail.startswith("Qt could not start its platform plugin ("), result.detail
    assert "xcb" in result.detail


def test_missing_libraries_fail_the_check_with_the_packages_even_without_a_display() -> None:
    def absent(soname: str) -> bool:
        return soname != "libxcb-icccm.so.4"

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("no child when the preflight already knows")

    for env in ({"DISPLAY": ":0"}, {}):
        result = selftest._run("platform", lambda e=env: selftest.check_platform(e, finder=absent, run=never))
        assert result.status == "FAIL", result
        assert "libxcb-icccm.so.4" in result.detail and "install" in result.detail


def test_no_display_and_every_library_there_skips_the_platform_check() -> None:
    result = selftest._run("platform", lambda: selftest.check_platform({}, finder=lambda soname: True))
    assert result.status == "skip" and "no display" in result.detail


def test_a_failing_check_is_named_the_others_still_run_and_the_exit_code_is_1(monkeypatch) -> None:
    def broken(scratch: Path) -> str:
        raise OSError("no free port")

    monkeypatch.setattr(selftest, "check_sandbox", broken)
    out = io.StringIO()
    assert selftest.run_selftest(render=False, out=out) == 1
    lines = out.getvalue().splitlines()
    assert any(line.startswith("ok   store:") for line in lines)
    assert any(line.startswith("ok   vault:") for line in lines)
    assert any(line.startswith("FAIL sandbox: OSError: no free port") for line in lines)
    assert any(line.startswith("skip platform:") for line in lines)
    assert any(line.startswith("skip window:") for line in lines)
    assert lines[-1] == "self-test FAILED: sandbox"


def test_a_build_without_the_window_module_says_so(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, selftest.UI_MODULE, None)  # importing it now raises ImportError
    result = selftest._run("window", lambda: selftest.check_window(services=None))  # type: ignore[arg-type]
    assert result.status == "FAIL"
    assert "this build has no desktop UI" in result.detail


def test_a_store_that_cannot_open_fails_store_and_window_but_still_tries_the_sandbox(monkeypatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(selftest, "open_services", refuse)
    monkeypatch.setattr(selftest, "check_sandbox", lambda scratch: "stubbed")
    out = io.StringIO()
    assert selftest.run_selftest(out=out) == 1
    text = out.getvalue()
    assert "FAIL store: PermissionError: read-only file system" in text
    assert "ok   sandbox: stubbed" in text
    assert "FAIL window: needs the store" in text
