"""What the wizard has collected, and its draft on disk (plain fields as JSON, secrets vault-sealed)."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.secrets import Secret

log = logging.getLogger(__name__)

DRAFT_FILE = "wizard-draft.json"
DRAFT_OWNER = "wizard-draft"
DEFAULT_ATLAS_URL = "https://api.atlas.pharma"
_VERSION = 1


class SecretSealer(Protocol):
    """The part of store.vault.Vault the draft uses."""

    def encrypt(self, owner_id: str, field: str, value: Secret) -> bytes: ...

    def decrypt(self, owner_id: str, field: str, blob: bytes) -> Secret: ...


@dataclass
class WizardState:
    """Everything entered so far. Secrets only as `Secret`; `fields` holds the plain form values."""

    atlas_base_url: str = DEFAULT_ATLAS_URL
    atlas_auth_method: str = "api_token"  # or "device"
    atlas_company: str = ""
    atlas_account_id: str = ""
    atlas_verified: bool = False
    erp_type: ErpType | None = None
    auth_mode: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, Secret] = field(default_factory=dict, repr=False)
    prefs: dict[str, Any] = field(default_factory=dict)
    connection_id: str | None = None
    tested_ok: bool = False
    page: int = 0

    def plain(self) -> dict[str, Any]:
        return {
            "version": _VERSION,
            "atlas_base_url": self.atlas_base_url,
            "atlas_auth_method": self.atlas_auth_method,
            "atlas_company": self.atlas_company,
            "atlas_account_id": self.atlas_account_id,
            "atlas_verified": self.atlas_verified,
            "erp_type": self.erp_type.value if self.erp_type else None,
            "auth_mode": self.auth_mode,
            "fields": dict(self.fields),
            "prefs": dict(self.prefs),
            "connection_id": self.connection_id,
            "tested_ok": self.tested_ok,
            "page": self.page,
        }

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> WizardState:
        state = cls()
        state.atlas_base_url = str(data.get("atlas_base_url") or DEFAULT_ATLAS_URL)
        state.atlas_auth_method = str(data.get("atlas_auth_method") or "api_token")
        state.atlas_company = str(data.get("atlas_company") or "")
        state.atlas_account_id = str(data.get("atlas_account_id") or "")
        state.atlas_verified = bool(data.get("atlas_verified"))
        erp = data.get("erp_type")
        state.erp_type = ErpType(erp) if erp in {e.value for e in ErpType} else None
        state.auth_mode = data.get("auth_mode") or None
        fields = data.get("fields")
        state.fields = {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else {}
        prefs = data.get("prefs")
        state.prefs = dict(prefs) if isinstance(prefs, dict) else {}
        state.connection_id = data.get("connection_id") or None
        state.tested_ok = bool(data.get("tested_ok"))
        page = data.get("page")
        state.page = page if isinstance(page, int) and page >= 0 else 0
        return state


class WizardDraft:
    """The wizard's draft in the profile: resumed at the next start, removed when setup finishes.

    Secret values are sealed by the vault (AES-GCM, owner "wizard-draft") before they reach the file;
    a draft whose secrets the vault can no longer open resumes without them.
    """

    def __init__(self, root: Path, sealer: SecretSealer) -> None:
        self.path = Path(root) / DRAFT_FILE
        self._sealer = sealer

    def exists(self) -> bool:
        return self.path.exists()

    def save(self, state: WizardState) -> None:
        data = state.plain()
        sealed: dict[str, str] = {}
        for name, value in state.secrets.items():
            if value:
                blob = self._sealer.encrypt(DRAFT_OWNER, name, value)
                sealed[name] = base64.b64encode(blob).decode()
        data["sealed_secrets"] = sealed
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".wizard-draft-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self) -> WizardState | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("wizard draft unreadable (%s); starting afresh", type(exc).__name__)
            return None
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            return None
        state = WizardState.from_plain(data)
        sealed = data.get("sealed_secrets")
        for name, text in sealed.items() if isinstance(sealed, dict) else ():
            try:
                state.secrets[str(name)] = self._sealer.decrypt(
                    DRAFT_OWNER, str(name), base64.b64decode(text)
                )
            except (AtlasDesktopError, binascii.Error, TypeError, ValueError):
                log.info("a saved wizard credential could not be opened; it must be entered again")
        return state

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
