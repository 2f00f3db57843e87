"""The headless agent starts without a window, stops cleanly on SIGTERM, and leaves the schedule to a window
that runs it until that window ends."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from atlas_desktop.app import agent
from atlas_desktop.app.agent import run_agent_async
from atlas_desktop.app.background import BackgroundTiming
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import open_services
from atlas_desktop.store.keys import MemoryKeySource


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


_WINDOW = """
import asyncio, sys
from pathlib import Path
from atlas_desktop.app.background import BackgroundWork
from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import open_services
from atlas_desktop.store.keys import MemoryKeySource

async def main():
    with open_services(ProfilePaths(Path(sys.argv[1])), key_source=MemoryKeySource()) as services:
        work = BackgroundWork(services, build_engine(services), role="window")
        await work.start()
        print("runs the schedule" if work.running else "waits", flush=True)
        await asyncio.sleep(120)

asyncio.run(main())
"""


async def test_the_agent_waits_while_a_window_runs_the_schedule_then_takes_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent, "freeze_startup_heap", lambda: None)  # not in the test session's process
    paths = ProfilePaths(tmp_path / "profile")
    window = subprocess.Popen(
        [sys.executable, "-c", _WINDOW, str(paths.root)], stdout=subprocess.PIPE, text=True
    )
    stop = asyncio.Event()
    printed: list[str] = []

    async def until(text: str) -> None:
        for _ in range(250):
            printed.extend(capsys.readouterr().out.splitlines())
            if any(text in line for line in printed):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{text!r} not printed: {printed}")

    try:
        assert window.stdout is not None and window.stdout.readline().strip() == "runs the schedule"
        with open_services(paths, key_source=MemoryKeySource()) as services:
            running = asyncio.ensure_future(
                run_agent_async(services, stop, timing=BackgroundTiming(takeover_s=0.2))
            )
            await until("agent running, waiting")
            assert f"Scheduled syncs run by an Atlas Desktop window (process {window.pid})" in printed[0]
            window.kill()  # the window ends (or crashes): the OS frees its lock
            window.wait()
            await until("agent now runs the schedule: 0 connections scheduled")
            stop.set()
            assert await asyncio.wait_for(running, 10) == 0
            await until("agent stopped")
    finally:
        window.kill()
        window.wait()
