"""CSRF protection as SAP Gateway does it: token + session cookies, 403 "Required" otherwise."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from atlas_desktop.sandbox.sap.config import SapConfig

FAILED_TEXT = "CSRF token validation failed"


@dataclass
class _Session:
    token: str
    user: str
    expires_at: float
    session_id: str


class CsrfGuard:
    """Tokens live in a security session named by cookies; lifetime `config.csrf_lifetime_s`."""

    def __init__(self, config: SapConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self._by_xsrf: dict[str, _Session] = {}

    @property
    def xsrf_cookie(self) -> str:
        return f"sap-XSRF_{self.config.system_id}_{self.config.sap_client}"

    @property
    def session_cookie(self) -> str:
        return f"SAP_SESSIONID_{self.config.system_id}_{self.config.sap_client}"

    def fetch(self, user: str, cookies: Mapping[str, str], *, secure: bool) -> tuple[str, list[str]]:
        """The token for this session (a new session when the cookie is missing, stale or another user's)."""
        now = self.clock()
        xsrf_id = cookies.get(self.xsrf_cookie, "")
        session = self._by_xsrf.get(xsrf_id)
        if session is None or session.user != user or session.expires_at <= now:
            xsrf_id = secrets.token_urlsafe(24)
            session = _Session(
                token=secrets.token_urlsafe(18),
                user=user,
                expires_at=now + self.config.csrf_lifetime_s,
                session_id=secrets.token_urlsafe(32),
            )
            self._by_xsrf[xsrf_id] = session
            self._prune(now)
        attrs = "; path=/; HttpOnly" + ("; secure" if secure else "")
        cookies_out = [
            f"{self.xsrf_cookie}={xsrf_id}{attrs}",
            f"{self.session_cookie}={session.session_id}{attrs}",
        ]
        return session.token, cookies_out

    def valid(self, user: str, header_token: str | None, cookies: Mapping[str, str]) -> bool:
        if not header_token or header_token.lower() == "fetch":
            return False
        session = self._by_xsrf.get(cookies.get(self.xsrf_cookie, ""))
        if session is None or session.expires_at <= self.clock():
            return False
        if cookies.get(self.session_cookie) != session.session_id:
            return False
        return session.user == user and secrets.compare_digest(session.token.encode(), header_token.encode())

    def expire_all(self) -> int:
        """Test helper: every issued token becomes invalid (like a security session timeout)."""
        count = len(self._by_xsrf)
        self._by_xsrf.clear()
        return count

    def _prune(self, now: float) -> None:
        if len(self._by_xsrf) > 10_000:
            for key in [k for k, s in self._by_xsrf.items() if s.expires_at <= now]:
                del self._by_xsrf[key]
