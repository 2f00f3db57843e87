"""The headless agent starts without a window and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def test_agent_runs_headless_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ATLAS_DESKTOP_HOME": str(tmp_path / "home"),
        "ATLAS_DESKTOP_PASSPHRASE": "agent pass 1",
    }
    env.pop("DISPLAY", None)
    env.pop("QT_QPA_PLATFORM", None)  # no Qt at all: the agent must not need it
    proc = subprocess.Popen(
        [sys.executable, "-m", "atlas_desktop", "agent"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "agent running" in line
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "agent stopped" in out
    assert "PySide6" not in err
