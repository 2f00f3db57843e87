"""A 401 that may not be about the credentials.

Under load, real NetSuite accounts have answered requests over the concurrency limit with a slow 401
"Invalid login attempt" (after about a minute) instead of a 429. A slow 401 right after calls that
worked with the same credentials is therefore treated as "busy" first: retried with backoff, and if it
persists, reported as a capacity problem (retryable), not as wrong credentials. A quick 401, or one with
no recent good call before it, is the credentials' (or the role's) fault as always.
"""

from __future__ import annotations

import random

from atlas_desktop.connectors.netsuite.errors import SYSTEM
from atlas_desktop.domain.errors import AuthFailed, RateLimited

SLOW_LOGIN_S = 20.0  # a real refused login answers in a second or two; over the limit, in about 60 s
CAPACITY_WINDOW_S = 600.0  # a good call this recent vouches for the credentials
CAPACITY_RETRIES = 3
_BACKOFF_BASE_S = 5.0
_BACKOFF_CAP_S = 60.0


def capacity_backoff(attempt: int, rng: random.Random) -> float:
    """Equal jitter: at least half the step, so a busy account gets real room, and callers spread out."""
    step = min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2**attempt)
    return rng.uniform(step / 2, step)


def capacity_refusal(error: AuthFailed, *, waited: float, attempts: int, since_good_s: float) -> RateLimited:
    return RateLimited(
        f"NetSuite answered 'Invalid login attempt' (401) after {waited:.0f} s, {attempts} times in a row, "
        f"though the same credentials worked {max(since_good_s, 0):.0f} s before in this session. NetSuite "
        "answers that way when the account's concurrent-request limit is reached: the account is busy; the "
        "credentials are most likely fine.",
        fix="Nothing to change if it passes: the sync tries again on its next run. If it keeps happening, "
        "lower the connection's concurrency, or run other integrations that use this NetSuite account at "
        "other times (they share its limit). Only if it also happens while nothing else runs, check the "
        "credentials: NetSuite's Login Audit Trail shows whether the login itself failed.",
        system=SYSTEM,
        status=error.status,
        remote_code=error.remote_code,
        remote_message=error.remote_message,
    )


def credentials_refused(error: AuthFailed, *, waited: float, slow: bool, worked_before: bool) -> AuthFailed:
    """The credentials' 401, with what this session saw that bears on it."""
    notes = []
    if worked_before:
        notes.append(
            "The same credentials worked earlier in this session: they may have been revoked, or the "
            "integration role changed, since."
        )
    if slow:
        notes.append(
            f"The answer came only after {waited:.0f} s, which is also how NetSuite answers when the "
            "account is busy (its concurrent-request limit reached): if the credentials are right, try "
            "again while other integrations are idle."
        )
    if not notes:
        return error
    return AuthFailed(
        " ".join([error.message, *notes]),
        fix=error.fix,
        system=SYSTEM,
        status=error.status,
        remote_code=error.remote_code,
        remote_message=error.remote_message,
    )
