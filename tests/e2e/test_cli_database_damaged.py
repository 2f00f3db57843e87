"""A database damaged in the middle of the file: one clear error naming the way back, never a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli_connections import NETSUITE, run_cli, write


def test_mid_file_corruption_is_reported_with_the_way_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    imported = run_cli(home, "connections", "import", str(write(tmp_path, "ns.json", NETSUITE)))
    assert imported.returncode == 0, imported.stderr
    database = home / "atlas.db"
    data = bytearray(database.read_bytes())
    assert len(data) > 8 * 4096
    data[2 * 4096 : len(data) - 4096] = b"\xa5" * (len(data) - 3 * 4096)  # header and last page kept
    database.write_bytes(bytes(data))
    for wal in (home / "atlas.db-wal", home / "atlas.db-shm"):
        wal.unlink(missing_ok=True)
    for command in (["connections", "list"], ["audit", "verify"]):
        result = run_cli(home, *command)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and "SELECT" not in result.stderr, result.stderr
        assert "damaged" in result.stderr and ".bak-" in result.stderr, result.stderr
