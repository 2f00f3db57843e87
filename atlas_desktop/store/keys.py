"""Where the vault's 256-bit data key comes from: the OS keyring, a passphrase, or memory."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any, Protocol

import keyring
import keyring.errors
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from keyring.backend import KeyringBackend

from atlas_desktop.domain.errors import AtlasDesktopError, ErrorKind
from atlas_desktop.domain.secrets import Secret

KEY_BYTES = 32
NONCE_BYTES = 12
SERVICE = "atlas-desktop"
PASSPHRASE_ENV = "ATLAS_DESKTOP_PASSPHRASE"
VAULT_FILE = "vault.json"
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSPHRASE_CHARS = 8
# Bounds on what vault.json may ask for: below is too weak to accept, above would hang the app for
# minutes. The work bound is 16 times the default's, memory (128*n*r) at most 256 MiB.
_SCRYPT_N_RANGE = (2**14, 2**20)
_SCRYPT_MAX_WORK = 16 * SCRYPT_N * SCRYPT_R * SCRYPT_P
_SCRYPT_MAX_MEMORY = 256 * 2**20
_SALT_BYTES = (16, 64)
_CHECK_PLAINTEXT = b"atlas-desktop vault check v1"
_CHECK_AAD = b"vault-check"
_CHECK_BYTES = NONCE_BYTES + len(_CHECK_PLAINTEXT) + 16  # nonce, ciphertext, GCM tag


class VaultError(AtlasDesktopError):
    """The credential vault cannot give a key or a value. Never carries a secret value."""

    kind = ErrorKind.CONFIG_ERROR
    default_fix = "Enter the credential again (Connections > Edit credentials)."


class WrongPassphrase(VaultError):
    default_fix = f"Enter the passphrase this profile was created with (or set {PASSPHRASE_ENV} to it)."


class PassphraseCancelled(VaultError):
    """The person closed the passphrase prompt: not a wrong passphrase, and not worth an error dialog."""


class PassphrasePrompt(Protocol):
    """How a person is asked for the passphrase; `None` means they cancelled."""

    def choose(self, data_dir: Path) -> Secret | None:
        """A new passphrase, typed twice and checked (at least MIN_PASSPHRASE_CHARS) by the prompt."""

    def unlock(self, data_dir: Path, problem: str | None) -> Secret | None:
        """The passphrase of an existing profile; `problem` says why the last one was refused."""


class KeySource(Protocol):
    """Gives the vault its data key, creating it on first use."""

    @property
    def description(self) -> str: ...

    def load_key(self) -> bytes: ...


class MemoryKeySource:
    """A key that lives only as long as this object: tests and throw-away demo profiles."""

    description = "memory (credentials are lost when the app closes)"

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else AESGCM.generate_key(bit_length=256)

    def load_key(self) -> bytes:
        return self._key


def keyring_account_for(data_dir: Path) -> str:
    """One keyring entry per data directory, so two profiles never share (or overwrite) a key."""
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()
    return f"data-key-{digest[:12]}"


def _is_null_backend(backend: KeyringBackend) -> bool:
    # The fail and null backends exist so that keyring calls have somewhere to go; neither stores.
    module = type(backend).__module__
    return module in ("keyring.backends.fail", "keyring.backends.null")


def keyring_usable(timeout: float = 3.0, *, backend: KeyringBackend | None = None) -> bool:
    """True if the keyring stores and returns a value within `timeout` seconds.

    The probe runs in a daemon thread: a locked or absent Secret Service can block a D-Bus call
    indefinitely, and a hung probe must neither freeze the app nor keep it from exiting.
    """
    chosen = backend if backend is not None else keyring.get_keyring()
    if _is_null_backend(chosen):
        return False
    outcome: list[bool] = []

    def probe() -> None:
        account = f"probe-{secrets.token_hex(6)}"
        value = secrets.token_hex(8)
        try:
            chosen.set_password(SERVICE, account, value)
            try:
                outcome.append(chosen.get_password(SERVICE, account) == value)
            finally:
                chosen.delete_password(SERVICE, account)
        except Exception:  # any backend failure means "not usable"; the reason is not ours to fix
            outcome.append(False)

    thread = threading.Thread(target=probe, name="keyring-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(outcome) and outcome[0]


class KeyringKeySource:
    """The data key kept (base64) in the OS keyring: Keychain, Credential Manager, Secret Service."""

    def __init__(
        self,
        service: str = SERVICE,
        account: str = "data-key",
        *,
        backend: KeyringBackend | None = None,
    ) -> None:
        self.service = service
        self.account = account
        self._backend = backend
        self._key: bytes | None = None

    @property
    def description(self) -> str:
        backend = self._backend if self._backend is not None else keyring.get_keyring()
        return f"OS keyring ({type(backend).__module__.rsplit('.', 1)[-1]})"

    def _keyring(self) -> KeyringBackend:
        return self._backend if self._backend is not None else keyring.get_keyring()

    def load_key(self) -> bytes:
        if self._key is not None:
            return self._key
        store = self._keyring()
        try:
            stored = store.get_password(self.service, self.account)
            if stored is None:
                key = AESGCM.generate_key(bit_length=256)
                store.set_password(self.service, self.account, base64.b64encode(key).decode())
            else:
                key = base64.b64decode(stored, validate=True)
        except (keyring.errors.KeyringError, binascii.Error) as error:
            raise VaultError(
                f"The OS keyring could not give the data key ({type(error).__name__}).",
                fix="Unlock the keyring (log in to the desktop session) and try again.",
            ) from None
        if len(key) != KEY_BYTES:
            raise VaultError(
                "The data key in the OS keyring has the wrong length.",
                fix=f"Remove the keyring entry '{self.service}/{self.account}' and re-enter the credentials.",
            )
        self._key = key
        return key


def _read_vault_file(data_dir: Path) -> dict[str, Any] | None:
    path = Path(data_dir) / VAULT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise VaultError(
            f"{path} cannot be read ({type(error).__name__}).",
            fix="Restore vault.json from a backup of the profile; without it the credentials cannot be read.",
        ) from None
    if not isinstance(data, dict) or data.get("mode") not in ("keyring", "passphrase"):
        raise VaultError(f"{path} is not a vault file this version understands.", fix="Update Atlas Desktop.")
    return data


def _write_vault_file(data_dir: Path, data: Mapping[str, Any]) -> None:
    """Atomic (write, fsync, rename) and private (0600 from the first byte, not chmod-ed after)."""
    directory = Path(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / VAULT_FILE
    partial = directory / f".{VAULT_FILE}.{secrets.token_hex(4)}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _scrypt_record(path: Path, record: Mapping[str, Any]) -> tuple[bytes, bytes, int, int, int]:
    """Salt, check value and scrypt parameters from vault.json, each checked before any work is done."""
    damaged = VaultError(f"{path} is damaged.", fix="Restore it from a backup of the profile's folder.")
    try:
        salt = base64.b64decode(record["salt"], validate=True)
        check = base64.b64decode(record["check"], validate=True)
        n, r, p = (record[name] for name in ("n", "r", "p"))
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise damaged from None
    if not all(type(value) is int for value in (n, r, p)):  # not bool, float or text
        raise damaged
    if not _SALT_BYTES[0] <= len(salt) <= _SALT_BYTES[1] or len(check) != _CHECK_BYTES:
        raise damaged
    power_of_two = n & (n - 1) == 0
    if (
        not power_of_two
        or not _SCRYPT_N_RANGE[0] <= n <= _SCRYPT_N_RANGE[1]
        or not (1 <= r <= 32 and 1 <= p <= 16)
        or n * r * p > _SCRYPT_MAX_WORK
        or 128 * n * r > _SCRYPT_MAX_MEMORY
    ):
        raise VaultError(
            f"{path} asks for key-derivation settings this version does not accept.",
            fix="Restore vault.json from a backup of the profile's folder, or update Atlas Desktop.",
        )
    return salt, check, n, r, p


class PassphraseKeySource:
    """A key derived from a passphrase with scrypt; vault.json keeps the salt and a check value only."""

    description = "passphrase"

    def __init__(self, data_dir: Path, passphrase: Secret, *, n: int = SCRYPT_N) -> None:
        if not passphrase:
            raise VaultError("The passphrase is empty.", fix="Choose a passphrase of at least 8 characters.")
        self.data_dir = Path(data_dir)
        self._passphrase = passphrase
        self._n = n
        self._key: bytes | None = None

    @staticmethod
    def _derive(passphrase: Secret, salt: bytes, n: int, r: int, p: int) -> bytes:
        return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(passphrase.reveal().encode())

    def load_key(self) -> bytes:
        if self._key is not None:
            return self._key
        record = _read_vault_file(self.data_dir)
        if record is None:
            self._key = self._create()
            return self._key
        if record["mode"] != "passphrase":
            raise VaultError(
                "This profile keeps its key in the OS keyring, not behind a passphrase.",
                fix=f"Unset {PASSPHRASE_ENV} and make the OS keyring available.",
            )
        salt, check, n, r, p = _scrypt_record(self.data_dir / VAULT_FILE, record)
        key = self._derive(self._passphrase, salt, n, r, p)
        try:
            AESGCM(key).decrypt(check[:NONCE_BYTES], check[NONCE_BYTES:], _CHECK_AAD)
        except InvalidTag:
            raise WrongPassphrase(
                "The passphrase does not unlock this profile's credentials.",
                fix=f"Enter the passphrase this profile was created with (or set {PASSPHRASE_ENV} to it). "
                + lost_passphrase_advice(self.data_dir),
            ) from None
        self._key = key
        return key

    def _create(self) -> bytes:
        salt = os.urandom(16)
        key = self._derive(self._passphrase, salt, self._n, SCRYPT_R, SCRYPT_P)
        nonce = os.urandom(NONCE_BYTES)
        check = nonce + AESGCM(key).encrypt(nonce, _CHECK_PLAINTEXT, _CHECK_AAD)
        _write_vault_file(
            self.data_dir,
            {
                "version": 1,
                "mode": "passphrase",
                "kdf": "scrypt",
                "n": self._n,
                "r": SCRYPT_R,
                "p": SCRYPT_P,
                "salt": base64.b64encode(salt).decode(),
                "check": base64.b64encode(check).decode(),
            },
        )
        return key


def _unlocked(source: PassphraseKeySource) -> PassphraseKeySource:
    # Derive (or create) now, so a wrong passphrase is reported at start-up, not at the first sync.
    source.load_key()
    return source


def _new_passphrase(data_dir: Path, prompt: PassphrasePrompt) -> Secret:
    chosen = prompt.choose(data_dir)
    if chosen is None:
        raise PassphraseCancelled(
            "No passphrase was chosen, so nothing was set up.",
            fix="Start Atlas Desktop again when you are ready to choose one.",
        )
    if len(chosen.reveal()) < MIN_PASSPHRASE_CHARS:  # the prompt checks too; never store a weak one
        raise VaultError(
            f"The passphrase is shorter than {MIN_PASSPHRASE_CHARS} characters.",
            fix=f"Choose a passphrase of at least {MIN_PASSPHRASE_CHARS} characters "
            "(e.g. four random words).",
        )
    return chosen


def take_env_passphrase(environ: MutableMapping[str, str]) -> dict[str, str]:
    """ATLAS_DESKTOP_PASSPHRASE moved out of `environ` (the process environment), so no child process
    (a browser, a script, a crash reporter) inherits it: what to hand to `choose_key_source(env=...)`."""
    value = environ.pop(PASSPHRASE_ENV, None)
    return {PASSPHRASE_ENV: value} if value else {}


def choose_key_source(
    data_dir: Path,
    *,
    env: Mapping[str, str] = os.environ,
    prompt: PassphrasePrompt | None = None,
    backend: KeyringBackend | None = None,
    probe_timeout: float = 3.0,
    has_secrets: bool = False,
) -> KeySource:
    """The key source for a data directory: the one it was created with, else the best available.

    A new profile uses a passphrase if ATLAS_DESKTOP_PASSPHRASE is set, else a working OS keyring,
    else a passphrase asked through `prompt`. With none of these it refuses: never plain text.
    `has_secrets`: the database already holds encrypted values, so a missing vault.json is a loss to
    report, not a new profile. `backend` replaces the system keyring (tests).
    """
    data_dir = Path(data_dir)
    record = _read_vault_file(data_dir)
    env_passphrase = env.get(PASSPHRASE_ENV) or None
    if record is None and has_secrets:
        raise VaultError(
            f"{data_dir / VAULT_FILE} is missing, but the database in {data_dir} holds encrypted "
            "credentials; a new key would make every one of them unreadable.",
            fix=f"Restore {VAULT_FILE} into {data_dir} from a backup of that folder. Without a backup, "
            "move the folder aside and set up the connections again.",
        )

    if record is not None and record["mode"] == "keyring":
        if not keyring_usable(probe_timeout, backend=backend):
            raise VaultError(
                "This profile keeps its key in the OS keyring, and the keyring is not available now.",
                fix="Log in to the desktop session (or unlock the keyring) and start Atlas Desktop again.",
            )
        return KeyringKeySource(
            str(record.get("service", SERVICE)),
            str(record.get("account", keyring_account_for(data_dir))),
            backend=backend,
        )
    if record is not None:  # passphrase mode
        if env_passphrase is not None:
            return _unlocked(PassphraseKeySource(data_dir, Secret(env_passphrase)))
        if prompt is None:
            raise VaultError(
                "This profile's credentials are locked with a passphrase.",
                fix=f"Set {PASSPHRASE_ENV} to the passphrase, or start the app with a window to type it.",
            )
        return _unlock_with_prompt(data_dir, prompt)

    if env_passphrase is not None:
        if len(env_passphrase) < MIN_PASSPHRASE_CHARS:
            raise VaultError(
                f"{PASSPHRASE_ENV} is shorter than {MIN_PASSPHRASE_CHARS} characters; a new profile "
                "needs a stronger passphrase.",
                fix=f"Set {PASSPHRASE_ENV} to a passphrase of at least {MIN_PASSPHRASE_CHARS} characters "
                "(e.g. four random words).",
            )
        return _unlocked(PassphraseKeySource(data_dir, Secret(env_passphrase)))
    if keyring_usable(probe_timeout, backend=backend):
        source = KeyringKeySource(SERVICE, keyring_account_for(data_dir), backend=backend)
        source.load_key()
        _write_vault_file(
            data_dir, {"version": 1, "mode": "keyring", "service": source.service, "account": source.account}
        )
        return source
    if prompt is not None:
        return _unlocked(PassphraseKeySource(data_dir, _new_passphrase(data_dir, prompt)))
    raise VaultError(
        "No safe place to keep the credential key: there is no usable OS keyring.",
        fix=f"On a server, set {PASSPHRASE_ENV} to a passphrase; on a desktop, install a keyring "
        "(e.g. gnome-keyring or KWallet) and log in to the desktop session.",
    )


def why_a_passphrase(data_dir: Path) -> str:
    """What a person reads before choosing a passphrase: why, when it is asked, and what losing it means."""
    return (
        "This computer has no system keyring (where desktop apps keep their keys safe), so Atlas Desktop "
        "protects the stored ERP and Atlas credentials with a passphrase you choose. It is asked each "
        "time Atlas Desktop starts. Keep it somewhere safe. " + lost_passphrase_advice(data_dir)
    )


def lost_passphrase_advice(data_dir: Path) -> str:
    return (
        "Without it the stored credentials cannot be recovered: close Atlas Desktop, move the data folder "
        f"{data_dir} aside and add the connections again (your ERP and Atlas data are not affected)."
    )


def _unlock_with_prompt(data_dir: Path, prompt: PassphrasePrompt, attempts: int = 3) -> KeySource:
    problem: str | None = None
    for failed in range(attempts):
        typed = prompt.unlock(data_dir, problem)
        if typed is None:  # Cancel is a choice, not a failed attempt
            raise PassphraseCancelled(
                "The credentials stay locked: no passphrase was entered.",
                fix="Start Atlas Desktop again and enter the passphrase.",
            )
        source = PassphraseKeySource(data_dir, typed)
        try:
            source.load_key()
        except WrongPassphrase:
            left = attempts - failed - 1
            plural = "s" if left != 1 else ""
            problem = f"That passphrase does not unlock this profile. {left} attempt{plural} left."
            continue
        return source
    raise WrongPassphrase(
        f"The passphrase does not unlock this profile's credentials ({attempts} attempts).",
        fix=f"Enter the passphrase this profile was created with. {lost_passphrase_advice(data_dir)}",
    )
