"""Test-wide setup: offscreen Qt, no real keyring, a throw-away profile per test."""

from __future__ import annotations

import os

# Before any QApplication exists (pytest-qt creates it lazily).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# A stray keyring call must never hang on D-Bus or touch the developer's real keyring.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"

import pytest  # noqa: E402


@pytest.fixture
def profile_home(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """An empty profile folder used through ATLAS_DESKTOP_HOME, with a passphrase-based vault."""
    home = tmp_path / "profile"
    monkeypatch.setenv("ATLAS_DESKTOP_HOME", str(home))
    monkeypatch.setenv("ATLAS_DESKTOP_PASSPHRASE", "correct horse battery staple")
    return home


@pytest.fixture(autouse=True)
def _fresh_secret_registry():  # type: ignore[no-untyped-def]
    """Each test starts with no registered secret values. The registry is process-wide and its pattern
    costs ~0.2 ms per value to rebuild, so the thousands left by earlier tests made a later test's log
    lines slow enough to miss a one-second webhook deadline; tests must not share that state anyway."""
    from atlas_desktop.domain import secrets

    with secrets._known_lock:
        secrets._known.clear()
        secrets._known_pattern = None
    yield
