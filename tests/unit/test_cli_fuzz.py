"""The CLI under arbitrary arguments: an exit code and a message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas_desktop.cli import main

WEIRD = st.one_of(
    st.sampled_from(["", "-", "²", "٣", "-1", "0", "9" * 23, "1e400", "\u202e", "../x", "%s"]),
    st.text(max_size=12).filter(lambda t: "\x00" not in t),  # the OS cannot pass NUL in argv
)
COMMANDS = st.sampled_from(
    [
        ["connections", "list"], ["connections", "list", "--json"], ["connections", "remove"],
        ["mappings", "list"], ["mappings", "unmap"], ["mappings", "map"], ["conflicts", "list"],
        ["conflicts", "resolve"], ["audit", "verify"], ["audit", "export", "--out"],
        ["audit", "export", "--since"], ["webhooks", "list"], ["webhooks", "disable"], ["api-key", "show"],
        ["diagnose", "--out"], ["replay"], ["sync", "--json"],
    ]
)  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ATLAS_DESKTOP_PASSPHRASE", "correct horse battery staple")
    monkeypatch.setenv("ATLAS_DESKTOP_HOME", str(tmp_path / "profile"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_no_arguments_make_the_cli_crash(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(command=COMMANDS, values=st.lists(WEIRD, max_size=4))
    def check(command: list[str], values: list[str]) -> None:
        try:
            code = main([*command, *values])
        except SystemExit as exit_:  # argparse: usage errors exit 2, --help 0
            code = exit_.code
        out = capsys.readouterr()
        assert code in (0, 1, 2, 3, 4, 5), (command, values, code)
        assert "Traceback" not in out.err + out.out, (command, values)

    check()
