"""NetSuite M2M key pairs made before their connection exists: `connections new-certificate`, for sites
without the window.

The public certificate goes to `<profile>/certificates/` for the upload; its private key waits sealed in
the vault, under a name derived from the certificate's file, until `connections import` names that
certificate in place of a key. The key is never written to a file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from atlas_desktop.app.netsuite_certificates import CertificateFolder, MadeCertificate
from atlas_desktop.app.services import Services
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.profile_secrets import ProfileSecrets

_PREFIX = "m2m_waiting_key:"


class WaitingKeys:
    def __init__(self, secrets: ProfileSecrets, folder: CertificateFolder) -> None:
        self._secrets = secrets
        self.folder = folder

    @staticmethod
    def _name(certificate: Path) -> str:
        # A digest keeps the vault's field name short whatever the account ID makes the file name.
        return _PREFIX + hashlib.sha256(certificate.name.encode()).hexdigest()[:32]

    def make(self, account_id: str) -> MadeCertificate:
        made = self.folder.create(account_id)
        self._secrets.put(self._name(made.path), made.private_key)
        return made

    def _mine(self, certificate: Path) -> bool:
        return certificate.expanduser().resolve().parent == self.folder.folder.resolve()

    def key_for(self, certificate: Path) -> Secret | None:
        """The waiting key of a certificate this profile made; None for any other file."""
        return self._secrets.get(self._name(certificate)) if self._mine(certificate) else None

    def forget(self, certificate: Path) -> None:
        if self._mine(certificate):
            self._secrets.delete(self._name(certificate))


def waiting_keys(services: Services) -> WaitingKeys:
    return WaitingKeys(ProfileSecrets(services.store, services.vault), CertificateFolder(services.paths.root))


def with_waiting_key(data: object, keys: WaitingKeys) -> tuple[object, Path | None]:
    """A credentials file without `private_key` whose `certificate` is a path to one this profile made gets
    that certificate's waiting key (the import then checks they are a pair). Returns the data, a copy when
    changed, and the certificate whose key was used."""
    if not isinstance(data, Mapping):
        return data, None
    result: dict[str, Any] = dict(data)
    if isinstance(result.get("credentials"), Mapping):
        result["credentials"] = dict(result["credentials"])  # a copy: the caller's object stays as it was
    for holder in (result, result.get("credentials")):
        if not isinstance(holder, dict):
            continue
        given, key = holder.get("certificate"), holder.get("private_key")
        if (isinstance(key, str) and key.strip()) or not isinstance(given, str):
            continue
        if not given.strip() or "-----BEGIN" in given:
            continue
        path = Path(given.strip()).expanduser()
        waiting = keys.key_for(path)
        if waiting is not None:
            holder["private_key"] = waiting.reveal()
            return result, path
    return data, None
