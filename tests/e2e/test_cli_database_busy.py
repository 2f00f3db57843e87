"""Commands meeting a database another process is writing: one typed error and exit 1, never SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_cli_connections import ATLAS_TOKEN, NETSUITE, run_cli, write


@pytest.fixture
def busy(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A profile with one connection, and another process holding its database's write lock."""
    home = tmp_path / "home"
    imported = run_cli(home, "connections", "import", str(write(tmp_path, "ns.json", NETSUITE)))
    assert imported.returncode == 0, imported.stderr
    signin = run_cli(
        home, "signin", "--base-url", "https://api.atlas.pharma", "--token-stdin", stdin=ATLAS_TOKEN
    )
    assert signin.returncode == 0, signin.stderr
    writer = sqlite3.connect(home / "atlas.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        yield home, imported.stdout.strip().splitlines()[-1]
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.parametrize(
    "command",
    [["sync", "{id}", "--json", "--wait", "0"], ["connections", "remove", "{id}"]],
    ids=["through-the-engine", "straight-to-the-store"],
)
def test_a_busy_database_is_one_clear_error_without_sql(busy: tuple[Path, str], command: list[str]) -> None:
    home, connection_id = busy
    result = run_cli(home, *[part.format(id=connection_id) for part in command])
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.splitlines()[0] == (
        "error: the profile's database is busy: another process is writing to it"
    )
    text = result.stdout + result.stderr
    for leak in ("Traceback", "SELECT", "INSERT", "UPDATE", "DELETE", "[parameters"):
        assert leak not in text, text
    log = (home / "logs" / "atlas-desktop.log").read_text()
    assert "SELECT" not in log and "INSERT" not in log and "[parameters" not in log
