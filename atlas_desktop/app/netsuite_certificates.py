"""NetSuite M2M certificates on this computer: made here, the public half written for the upload.

Only the certificate (public) is written, into `<profile>/certificates/`, where the user picks it on
NetSuite's M2M Setup page; the private key goes to the vault with the connection and never to a file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from atlas_desktop.domain.m2m_certificate import generate_m2m_certificate
from atlas_desktop.domain.secrets import Secret

FOLDER = "certificates"


@dataclass(frozen=True)
class MadeCertificate:
    """A new pair: `path` is the public certificate to upload; the private key is only in memory."""

    path: Path
    certificate_pem: str
    not_after: datetime
    private_key: Secret = field(repr=False)


class CertificateFolder:
    """Makes key pairs and keeps their public certificates in one folder the user can open."""

    def __init__(self, profile_root: Path, clock: Callable[[], datetime] | None = None) -> None:
        self.folder = Path(profile_root) / FOLDER
        self._clock = clock or (lambda: datetime.now(UTC))

    def create(self, account_id: str = "") -> MadeCertificate:
        now = self._clock()
        made = generate_m2m_certificate(now, subject=f"Atlas Desktop {account_id}".strip())
        self.folder.mkdir(parents=True, exist_ok=True)
        label = "".join(ch for ch in account_id if ch.isalnum() or ch == "_") or "netsuite"
        path = self.folder / f"atlas-desktop-{label}-{now:%Y%m%d-%H%M%S}.pem"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(made.certificate_pem, encoding="ascii")
        os.replace(tmp, path)
        return MadeCertificate(path, made.certificate_pem, made.not_after, made.private_key)
