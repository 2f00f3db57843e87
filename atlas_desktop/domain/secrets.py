"""Secret values that never show themselves, and the text redaction every log and bundle goes through."""

from __future__ import annotations

import base64
import hmac
import re
import threading
from typing import NoReturn
from urllib.parse import quote, quote_plus

MASK = "****"
# Shorter values would mask ordinary words; every real credential is longer.
_MIN_REGISTERED_LENGTH = 6

_known: set[str] = set()
# Re-entrant: compiling the pattern allocates, a collection may run a finaliser that logs, and the log
# record is redacted on this same thread (a plain Lock deadlocked the process there).
_known_lock = threading.RLock()
_known_pattern: re.Pattern[str] | None = None


def register_secret(value: str) -> None:
    """Remember a secret value (and its encoded forms) so `redact` masks it wherever it appears."""
    if len(value) < _MIN_REGISTERED_LENGTH:
        return
    global _known_pattern
    forms = {value, quote(value, safe=""), quote_plus(value)}
    raw = value.encode()
    forms.add(base64.b64encode(raw).decode().rstrip("="))
    forms.add(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    with _known_lock:
        before = len(_known)
        _known.update(f for f in forms if len(f) >= _MIN_REGISTERED_LENGTH)
        if len(_known) != before:
            _known_pattern = None


def known_secret_values() -> frozenset[str]:
    with _known_lock:
        return frozenset(_known)


class Secret:
    """A credential value. `str`, `repr` and f-strings show a mask; `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret holds text")
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret values are not pickled")


_HEADER_NAMES = r"authorization|proxy-authorization|cookie|set-cookie|x-csrf-token|x-api-key|apikey"
_KEY_NAMES = (
    r"client_secret|consumer_secret|consumer_key|token_secret|token_id|password|passwd|passphrase|"
    r"api_token|access_token|refresh_token|id_token|api_key|device_code|webhook_secret|private_key"
)
# `Name: value` up to the end of the line, or a quoted value in a dict/JSON repr.
_HEADER_RE = re.compile(rf"(?i)(\b(?:{_HEADER_NAMES})[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\r\n]+)")
_KEY_RE = re.compile(rf"(?i)(\b(?:{_KEY_NAMES})[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s&,;}}\]]+)")
_SCHEME_RE = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*")
# A PEM private key block (NetSuite OAuth 2.0, SAP X.509), even one never wrapped in a Secret.
_PEM_KEY_RE = re.compile(r"-----BEGIN ([A-Z ]*PRIVATE KEY)-----.*?(?:-----END \1-----|$)", re.DOTALL)
# The password in a URL's login (`http://user:password@proxy:8080`): masked, the user name kept.
_USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/?#@:]*:)([^\s/?#@]+)@")


def _quote_like(original: str) -> str:
    if len(original) >= 2 and original[0] == original[-1] and original[0] in "\"'":
        return f"{original[0]}{MASK}{original[0]}"
    return MASK


def _known_values_pattern() -> re.Pattern[str] | None:
    global _known_pattern
    with _known_lock:
        if _known_pattern is None and _known:
            # Longest first so a value is masked whole before any of its substrings.
            alternatives = sorted(_known, key=len, reverse=True)
            _known_pattern = re.compile("|".join(re.escape(v) for v in alternatives))
        return _known_pattern


def redact(text: str) -> str:
    """Mask every registered secret value and every credential-looking header or field in `text`."""
    if not text:
        return text
    pattern = _known_values_pattern()
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _HEADER_RE.sub(lambda m: m.group(1) + _quote_like(m.group(2)), text)
    text = _KEY_RE.sub(lambda m: m.group(1) + _quote_like(m.group(2)), text)
    text = _PEM_KEY_RE.sub(lambda m: f"-----BEGIN {m.group(1)}-----{MASK}", text)
    text = _SCHEME_RE.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _USERINFO_RE.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    return text
