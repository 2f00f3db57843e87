"""The terminal passphrase prompt (agent/CLI without a keyring) explains first and names each mistake."""

from __future__ import annotations

from pathlib import Path

from atlas_desktop.app.services import TerminalPassphrasePrompt


def _prompt(answers: list[str]) -> tuple[TerminalPassphrasePrompt, list[str]]:
    said: list[str] = []
    queue = list(answers)

    def ask(_question: str) -> str:
        if not queue:
            raise EOFError
        return queue.pop(0)

    return TerminalPassphrasePrompt(ask=ask, say=said.append), said


def test_it_explains_before_asking_and_names_a_mismatch(tmp_path: Path) -> None:
    prompt, said = _prompt(["long enough 1", "long enough 2", "long enough 1", "long enough 1"])
    chosen = prompt.choose(tmp_path)
    assert chosen is not None and chosen.reveal() == "long enough 1"
    assert "no system keyring" in said[0] and str(tmp_path) in said[0]
    assert any("differ" in line for line in said)


def test_too_short_is_named_and_end_of_input_cancels(tmp_path: Path) -> None:
    prompt, said = _prompt(["short"])
    assert prompt.choose(tmp_path) is None
    assert any("at least 8" in line for line in said)


def test_unlock_prints_the_problem_and_empty_input_cancels(tmp_path: Path) -> None:
    prompt, said = _prompt([""])
    assert prompt.unlock(tmp_path, "That passphrase does not unlock this profile. 1 attempt left.") is None
    assert said == ["That passphrase does not unlock this profile. 1 attempt left."]
