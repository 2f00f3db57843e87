"""The vault: AES-GCM round trips, tamper and move detection, and each key source."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.errors import PasswordDeleteError

from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.keys import PassphraseCancelled
from atlas_desktop.store.vault import (
    PASSPHRASE_ENV,
    KeyringKeySource,
    MemoryKeySource,
    PassphraseKeySource,
    Vault,
    VaultError,
    WrongPassphrase,
    choose_key_source,
    keyring_account_for,
    keyring_usable,
)

VALUE = Secret("c0nsumer-s3cret-value-0123456789abcdef")


class DictKeyring(KeyringBackend):
    """An in-memory keyring. `priority` raises so keyring never picks it for the process by itself."""

    @classmethod
    def priority(cls) -> float:  # type: ignore[override]
        raise RuntimeError("test backend, use explicitly")

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class HangingKeyring(DictKeyring):
    """Blocks like a Secret Service that never answers over D-Bus."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait()


class BrokenKeyring(DictKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("no D-Bus session")


@pytest.fixture
def hanging() -> Iterator[HangingKeyring]:
    backend = HangingKeyring()
    yield backend
    backend.release.set()


# --- Vault ------------------------------------------------------------------------------------


def test_round_trip_and_fresh_nonce_per_value(vault: Vault) -> None:
    first = vault.encrypt("conn-1", "consumer_secret", VALUE)
    second = vault.encrypt("conn-1", "consumer_secret", VALUE)
    assert first[:12] != second[:12]
    assert first != second
    assert VALUE.reveal().encode() not in first
    assert vault.decrypt("conn-1", "consumer_secret", first) == VALUE
    assert vault.decrypt("conn-1", "consumer_secret", second).reveal() == VALUE.reveal()


@pytest.mark.parametrize(
    ("owner", "field"),
    [("conn-2", "consumer_secret"), ("conn-1", "token_secret"), ("atlas-account", "consumer_secret")],
)
def test_ciphertext_moved_to_another_owner_or_field_is_refused(vault: Vault, owner: str, field: str) -> None:
    blob = vault.encrypt("conn-1", "consumer_secret", VALUE)
    with pytest.raises(VaultError):
        vault.decrypt(owner, field, blob)


def test_tampered_or_truncated_ciphertext_is_refused_without_leaking(vault: Vault) -> None:
    blob = vault.encrypt("conn-1", "consumer_secret", VALUE)
    tampered = [
        bytes([blob[0] ^ 1]) + blob[1:],  # nonce
        blob[:20] + bytes([blob[20] ^ 0x80]) + blob[21:],  # ciphertext
        blob[:-1] + bytes([blob[-1] ^ 1]),  # tag
        blob[:27],
        b"",
    ]
    for bad in tampered:
        with pytest.raises(VaultError) as caught:
            vault.decrypt("conn-1", "consumer_secret", bad)
        assert "could not be decrypted" in str(caught.value)
        assert "re-enter" in str(caught.value)
        assert VALUE.reveal() not in repr(caught.value)


def test_a_different_key_cannot_read_the_value(vault: Vault) -> None:
    blob = vault.encrypt("conn-1", "consumer_secret", VALUE)
    with pytest.raises(VaultError):
        Vault(MemoryKeySource()).decrypt("conn-1", "consumer_secret", blob)


# --- Passphrase ------------------------------------------------------------------------------


def test_passphrase_source_rederives_the_same_key_and_refuses_a_wrong_one(tmp_path: Path) -> None:
    passphrase = Secret("correct horse battery staple")
    key = PassphraseKeySource(tmp_path, passphrase).load_key()
    assert len(key) == 32
    again = PassphraseKeySource(tmp_path, Secret("correct horse battery staple")).load_key()
    assert again == key

    vault_file = tmp_path / "vault.json"
    if os.name == "posix":
        assert stat.S_IMODE(vault_file.stat().st_mode) == 0o600
    text = vault_file.read_text()
    record = json.loads(text)
    assert record["mode"] == "passphrase" and record["n"] == 2**15
    for forbidden in (passphrase.reveal(), base64.b64encode(key).decode(), key.hex()):
        assert forbidden not in text

    with pytest.raises(WrongPassphrase) as caught:
        PassphraseKeySource(tmp_path, Secret("correct horse battery stapler")).load_key()
    assert "passphrase" in caught.value.message
    assert isinstance(caught.value, VaultError)


def test_damaged_vault_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "vault.json").write_text("{not json")
    with pytest.raises(VaultError, match="cannot be read"):
        PassphraseKeySource(tmp_path, Secret("whatever-passphrase")).load_key()


# --- Keyring ---------------------------------------------------------------------------------


def test_keyring_source_creates_the_key_once_and_reads_it_back() -> None:
    backend = DictKeyring()
    first = KeyringKeySource("atlas-desktop", "data-key-abc", backend=backend).load_key()
    stored = backend.entries[("atlas-desktop", "data-key-abc")]
    assert base64.b64decode(stored) == first and len(first) == 32
    assert KeyringKeySource("atlas-desktop", "data-key-abc", backend=backend).load_key() == first
    assert KeyringKeySource("atlas-desktop", "data-key-other", backend=backend).load_key() != first


def test_keyring_account_differs_per_data_dir(tmp_path: Path) -> None:
    one, two = keyring_account_for(tmp_path / "a"), keyring_account_for(tmp_path / "b")
    assert one != two and one.startswith("data-key-") and len(one) == len("data-key-") + 12
    assert keyring_account_for(tmp_path / "a") == one


def test_keyring_probe(hanging: HangingKeyring) -> None:
    working = DictKeyring()
    assert keyring_usable(backend=working)
    assert working.entries == {}  # the probe cleans up after itself
    assert not keyring_usable(backend=null.Keyring())
    assert not keyring_usable(backend=fail.Keyring())
    assert not keyring_usable(backend=BrokenKeyring())
    assert not keyring_usable(timeout=0.2, backend=hanging)


# --- choose_key_source -----------------------------------------------------------------------


def test_new_profile_uses_the_env_passphrase_even_with_a_keyring(tmp_path: Path) -> None:
    backend = DictKeyring()
    source = choose_key_source(tmp_path, env={PASSPHRASE_ENV: "server-passphrase-1"}, backend=backend)
    assert isinstance(source, PassphraseKeySource)
    assert json.loads((tmp_path / "vault.json").read_text())["mode"] == "passphrase"
    assert backend.entries == {}
    # Without the variable the profile stays in passphrase mode and says how to unlock it.
    with pytest.raises(VaultError, match="locked with a passphrase") as caught:
        choose_key_source(tmp_path, env={}, backend=backend)
    assert PASSPHRASE_ENV in caught.value.fix


def test_new_profile_uses_a_usable_keyring_and_keeps_it(tmp_path: Path) -> None:
    backend = DictKeyring()
    source = choose_key_source(tmp_path, env={}, backend=backend)
    assert isinstance(source, KeyringKeySource)
    assert source.account == keyring_account_for(tmp_path)
    assert json.loads((tmp_path / "vault.json").read_text())["mode"] == "keyring"
    key = source.load_key()
    # Later, a passphrase in the environment does not switch an existing keyring profile.
    later = choose_key_source(tmp_path, env={PASSPHRASE_ENV: "ignored-passphrase"}, backend=backend)
    assert isinstance(later, KeyringKeySource) and later.load_key() == key
    # The keyring going away is an error, not a silent switch to something else.
    with pytest.raises(VaultError, match="keyring is not available"):
        choose_key_source(tmp_path, env={}, backend=null.Keyring())


def test_without_keyring_or_passphrase_it_refuses_and_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(VaultError) as caught:
        choose_key_source(tmp_path, env={}, backend=null.Keyring())
    assert PASSPHRASE_ENV in caught.value.fix and "keyring" in caught.value.fix
    assert not (tmp_path / "vault.json").exists()


class ScriptedPrompt:
    """A PassphrasePrompt answering from a script; None stands for Cancel."""

    def __init__(self, chosen: str | None = None, unlocks: list[str | None] | None = None) -> None:
        self.chosen = chosen
        self.unlocks = list(unlocks or [])
        self.problems: list[str | None] = []

    def choose(self, data_dir: Path) -> Secret | None:
        return None if self.chosen is None else Secret(self.chosen)

    def unlock(self, data_dir: Path, problem: str | None) -> Secret | None:
        self.problems.append(problem)
        typed = self.unlocks.pop(0)
        return None if typed is None else Secret(typed)


def test_a_chosen_passphrase_unlocks_the_profile_later(tmp_path: Path) -> None:
    created = choose_key_source(
        tmp_path, env={}, prompt=ScriptedPrompt("desk-passphrase"), backend=null.Keyring()
    )
    assert isinstance(created, PassphraseKeySource)
    unlocked = choose_key_source(
        tmp_path, env={}, prompt=ScriptedPrompt(unlocks=["desk-passphrase"]), backend=null.Keyring()
    )
    assert unlocked.load_key() == created.load_key()


def test_a_wrong_passphrase_says_so_and_how_many_tries_are_left(tmp_path: Path) -> None:
    choose_key_source(tmp_path, env={}, prompt=ScriptedPrompt("desk-passphrase"), backend=null.Keyring())
    prompt = ScriptedPrompt(unlocks=["not-it-at-all", "nor-this-one", "desk-passphrase"])
    choose_key_source(tmp_path, env={}, prompt=prompt, backend=null.Keyring())
    assert prompt.problems[0] is None
    assert "does not unlock" in str(prompt.problems[1]) and "2 attempts left" in str(prompt.problems[1])
    assert "1 attempt left" in str(prompt.problems[2])


def test_three_wrong_passphrases_name_the_data_folder_to_move_aside(tmp_path: Path) -> None:
    choose_key_source(tmp_path, env={}, prompt=ScriptedPrompt("desk-passphrase"), backend=null.Keyring())
    with pytest.raises(WrongPassphrase) as caught:
        choose_key_source(
            tmp_path, env={}, prompt=ScriptedPrompt(unlocks=["wrong-one-1"] * 3), backend=DictKeyring()
        )
    assert str(tmp_path) in caught.value.fix
    assert "desk-passphrase" not in caught.value.message + caught.value.fix


def test_cancel_is_not_a_failed_attempt(tmp_path: Path) -> None:
    choose_key_source(tmp_path, env={}, prompt=ScriptedPrompt("desk-passphrase"), backend=null.Keyring())
    with pytest.raises(PassphraseCancelled):
        choose_key_source(tmp_path, env={}, prompt=ScriptedPrompt(unlocks=[None]), backend=null.Keyring())
    with pytest.raises(PassphraseCancelled):  # not WrongPassphrase after a wrong try and a Cancel
        choose_key_source(
            tmp_path, env={}, prompt=ScriptedPrompt(unlocks=["wrong-one-1", None]), backend=null.Keyring()
        )


def test_cancelling_the_choice_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(PassphraseCancelled):
        choose_key_source(tmp_path, env={}, prompt=ScriptedPrompt(None), backend=null.Keyring())
    assert not (tmp_path / "vault.json").exists()


def test_a_short_passphrase_from_any_prompt_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="shorter than 8"):
        choose_key_source(tmp_path, env={}, prompt=ScriptedPrompt("short"), backend=null.Keyring())
    assert not (tmp_path / "vault.json").exists()
