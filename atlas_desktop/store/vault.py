"""Credential encryption: AES-256-GCM per value, bound to its owner and field by associated data.

Key sources (keyring, passphrase, memory) and `choose_key_source` live in store/keys.py and are
re-exported here, so `from atlas_desktop.store.vault import ...` is the one import callers need.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.keys import (
    KEY_BYTES,
    NONCE_BYTES,
    PASSPHRASE_ENV,
    KeyringKeySource,
    KeySource,
    MemoryKeySource,
    PassphraseKeySource,
    VaultError,
    WrongPassphrase,
    choose_key_source,
    keyring_account_for,
    keyring_usable,
)

__all__ = [
    "PASSPHRASE_ENV",
    "KeySource",
    "KeyringKeySource",
    "MemoryKeySource",
    "PassphraseKeySource",
    "Vault",
    "VaultError",
    "WrongPassphrase",
    "choose_key_source",
    "keyring_account_for",
    "keyring_usable",
]

_TAG_BYTES = 16
_UNREADABLE = "The stored credential could not be decrypted; re-enter it."


def _associated_data(owner_id: str, field: str) -> bytes:
    # NUL cannot occur in either part, so ("a", "b\x00c") and ("a\x00b", "c") cannot collide.
    if "\x00" in owner_id or "\x00" in field:
        raise ValueError("owner_id and field must not contain NUL")
    return f"{owner_id}\x00{field}".encode()


class Vault:
    """Encrypts and decrypts single credential values. The key is loaded on first use, then kept."""

    def __init__(self, key_source: KeySource) -> None:
        self.key_source = key_source
        self._cipher: AESGCM | None = None

    @property
    def description(self) -> str:
        return self.key_source.description

    def _aead(self) -> AESGCM:
        if self._cipher is None:
            key = self.key_source.load_key()
            if len(key) != KEY_BYTES:
                raise VaultError(f"The data key has {len(key)} bytes instead of {KEY_BYTES}.")
            self._cipher = AESGCM(key)
        return self._cipher

    def encrypt(self, owner_id: str, field: str, value: Secret) -> bytes:
        """nonce (12 bytes, fresh per value) || ciphertext with tag."""
        if not isinstance(value, Secret):
            raise TypeError("Vault.encrypt takes a Secret")
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead().encrypt(nonce, value.reveal().encode(), _associated_data(owner_id, field))
        return nonce + sealed

    def decrypt(self, owner_id: str, field: str, blob: bytes) -> Secret:
        """The value, or VaultError if the blob was altered, truncated, or belongs to another row/field."""
        aead = self._aead()
        if len(blob) < NONCE_BYTES + _TAG_BYTES:
            raise VaultError(_UNREADABLE)
        try:
            plain = aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _associated_data(owner_id, field))
            return Secret(plain.decode())
        except (InvalidTag, UnicodeDecodeError):
            raise VaultError(_UNREADABLE) from None
