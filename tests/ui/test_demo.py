"""Demo mode: emulators on loopback, a throw-away profile, credentials the wizard can import in one click."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from atlas_desktop.app.demo import demo_environment
from atlas_desktop.domain.model import ErpType


def test_demo_environment_serves_the_sandbox_and_is_removed_after() -> None:
    with demo_environment(items=20) as env:
        root = env.paths.root
        assert root.is_dir() and "atlas-demo-" in str(root)
        sandbox = env.sandbox
        assert sandbox.atlas_url.startswith("http://127.0.0.1:") and sandbox.atlas_token
        netsuite = sandbox.credentials_for(ErpType.NETSUITE)
        assert netsuite is not None and netsuite["base_url"] == sandbox.urls["netsuite"]
        onprem = sandbox.credentials_for(ErpType.SAP_ONPREM)
        assert onprem is not None and "username" in onprem  # the simplest sign-in, not the certificate one
        assert sandbox.credentials_for(ErpType.SAP_CLOUD) is not None
    assert not root.exists()


def test_a_demo_ended_by_sigterm_leaves_no_folder_behind_and_never_touches_the_real_profile(tmp_path) -> None:
    """The real profile (ATLAS_DESKTOP_HOME) is never made, the demo's temporary folder (sandbox databases,
    PEM keys) is removed even when the demo is stopped by SIGTERM once its window is up."""
    root = Path(__file__).resolve().parents[2]
    home, profile, temp = tmp_path / "home", tmp_path / "profile", tmp_path / "tmp"
    home.mkdir()
    temp.mkdir()
    env = {**os.environ, "HOME": str(home), "ATLAS_DESKTOP_HOME": str(profile), "TMPDIR": str(temp),
           "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}  # fmt: skip
    process = subprocess.Popen([sys.executable, "-m", "atlas_desktop", "--demo", "-v"], env=env, cwd=root,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        assert process.stderr is not None
        for line in process.stderr:  # the schedule starts once the window is shown
            seen.append(line)
            if "this is the window" in line or time.monotonic() > deadline:
                break
        assert any("this is the window" in line for line in seen), "".join(seen[-20:])
        assert any(path.name.startswith("atlas-demo-") for path in temp.iterdir())
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, "".join(seen[-20:])
    assert not profile.exists(), list(profile.rglob("*"))
    assert not list(temp.iterdir()), list(temp.rglob("*"))
