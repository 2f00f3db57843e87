"""The webhook signature scheme: `X-Atlas-Signature: t=<unix s>,v1=<hex HMAC-SHA256("<t>.<raw body>")>`.

Verification is constant time, refuses timestamps more than five minutes away from now (either way),
and refuses a signature seen before within that window (replay). The replay memory is in the process
only: a restart forgets it, and the five-minute window bounds what a replay could then achieve (one
more read-only sync).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum

from atlas_desktop.domain.digits import ascii_int

SIGNATURE_HEADER = "X-Atlas-Signature"
TOLERANCE_SECONDS = 300
MAX_REMEMBERED = 200_000  # bounds memory under a flood; older entries are already outside the window
_HEX = re.compile(r"^[0-9a-f]{64}$")


class Refusal(StrEnum):
    MISSING = "signature header missing"
    MALFORMED = "signature header malformed"
    BAD = "signature does not match"
    STALE = "timestamp outside the 5-minute window"
    REPLAY = "signature already used"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value for `body` signed at `timestamp` (what senders compute)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def parse(header: str) -> tuple[int, list[str]] | None:
    """(timestamp, v1 signatures) or None. Several v1 entries are allowed (a sender rotating secrets)."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return None
        if key == "t":
            if timestamp is not None or (timestamp := ascii_int(value, max_digits=12)) is None:
                return None
        elif key == "v1":
            value = value.lower()
            if not _HEX.match(value):
                return None
            candidates.append(value)
        # Unknown keys (a future v2) are ignored so senders can add schemes without breaking us.
    if timestamp is None or not candidates:
        return None
    return timestamp, candidates


class SignatureVerifier:
    """Checks headers against one secret at a time; remembers accepted signatures for the window."""

    def __init__(self, *, clock: Callable[[], float] = time.time, tolerance: int = TOLERANCE_SECONDS) -> None:
        self._clock = clock
        self._tolerance = tolerance
        self._seen: OrderedDict[str, float] = OrderedDict()

    def verify(self, header: str | None, body: bytes, secret: str) -> Refusal | None:
        """None when the request is authentic, fresh and new (and then remembers it); else why not."""
        if not header:
            return Refusal.MISSING
        parsed = parse(header)
        if parsed is None:
            return Refusal.MALFORMED
        timestamp, candidates = parsed
        expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        matched = None
        for candidate in candidates:
            # compare_digest on every candidate: the time taken does not say which one (or how much) matched.
            if hmac.compare_digest(candidate, expected):
                matched = candidate
        if matched is None:
            return Refusal.BAD
        now = self._clock()
        if abs(now - timestamp) > self._tolerance:
            return Refusal.STALE
        # A timestamp may lie up to `tolerance` in the future, so a signature stays replayable until
        # t + tolerance <= accepted + 2 * tolerance: remember it that long.
        self._forget_before(now - 2 * self._tolerance)
        if matched in self._seen:
            return Refusal.REPLAY
        self._seen[matched] = now
        while len(self._seen) > MAX_REMEMBERED:
            self._seen.popitem(last=False)
        return None

    def _forget_before(self, cutoff: float) -> None:
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if at >= cutoff:
                break
            self._seen.pop(oldest)

    def __len__(self) -> int:
        return len(self._seen)
