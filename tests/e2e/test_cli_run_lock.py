"""A command that would run a connection another process is running: one line or one JSON object, exit 5."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlas_desktop.store.process_locks import ProcessLocks
from tests.e2e.test_cli_connections import NETSUITE, run_cli, write

EXIT_ALREADY_RUNNING = 5


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A profile with one connection whose run lock this test process holds (as a running sync would)."""
    home = tmp_path / "home"
    imported = run_cli(home, "connections", "import", str(write(tmp_path, "ns.json", NETSUITE)))
    assert imported.returncode == 0, imported.stderr
    connection_id = imported.stdout.strip().splitlines()[-1]
    lock = ProcessLocks(home / "locks").run(connection_id)
    assert lock.acquire()
    try:
        yield home, connection_id
    finally:
        lock.release()


def test_sync_json_says_already_running_with_the_holders_pid(held: tuple[Path, str]) -> None:
    home, connection_id = held
    result = run_cli(home, "sync", connection_id, "--yes", "--json", "--wait", "0.2")
    assert result.returncode == EXIT_ALREADY_RUNNING, result.stderr
    answer = json.loads(result.stdout)
    assert answer["status"] == "already_running" and answer["pid"] == os.getpid()
    assert answer["connection_id"] == connection_id
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["sync", "--wait", "0"], ["mappings", "discover"]], ids=lambda c: c[0])
def test_a_refused_command_prints_one_line_naming_the_connection_and_the_process(
    held: tuple[Path, str], command: list[str]
) -> None:
    home, connection_id = held
    name, *options = command
    args = [name, connection_id, *options] if name != "mappings" else [name, options[0], connection_id]
    result = run_cli(home, *args)
    assert result.returncode == EXIT_ALREADY_RUNNING, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"a sync of Main NetSuite is already running in process {os.getpid()}" in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("wait", ["-1", "nan", "inf", "soon"])
def test_a_wait_that_is_not_a_number_of_seconds_is_a_usage_error(tmp_path: Path, wait: str) -> None:
    result = run_cli(tmp_path / "home", "sync", "any-id", "--wait", wait)
    assert result.returncode == 2 and "is not a number of seconds" in result.stderr
