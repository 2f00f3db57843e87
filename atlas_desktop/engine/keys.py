"""Idempotency keys derived from the decision a write carries out, never drawn by chance.

A key is a hash of: the mapping's key scope (its connection, id, creation time and last recorded decision,
see store.decisions.key_scope_sql), the side and operation written, what is written to (the Atlas row,
the ERP item/location/lot) and the change itself (the delta, the date, the fields).

- The same change planned again gets the same key: after a crash or lost commits the scope is what it
  was when the change was first planned (a lost decision takes its id with it), and the change is the
  same change. The remote then recognises a write that had landed: Atlas replays its first answer,
  NetSuite refuses a second record with the externalId and the connector returns the first one, the SAP
  connector finds the material document carrying the key before it posts.
- Two different decisions never share a key: a mapping is planned only when it has no pending decision,
  and every decision recorded for it changes its scope, so each decision sees a scope no other decision
  of that mapping saw; base 10 -> sale -> 9 -> receipt -> 10 -> the same sale again is three decisions,
  three scopes. Within one decision, writes differ by side and operation. Mappings and connections
  differ by id (and a mapping id reused after a delete by its creation time).

Keys keep the shape of the random ones they replace: "atl-" + 32 hex digits (128 bits of SHA-256), within
NetSuite's externalId alphabet (letters, digits, "-", "_"), Atlas's Idempotency-Key (1-255 visible ASCII)
and the outbox column; SAP stores a 110-bit hash of it in the 25-character header text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from atlas_desktop.domain.model import Side

KEY_FORMAT = "atlas-desktop write key 1"  # part of the hashed text: a new derivation gets new keys


def _canonical(value: object) -> object:
    """A JSON form that does not depend on how the value was spelled: 5, 5.0 and 5.000 are one delta."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"a write key cannot be derived from the quantity {value}")
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"a write key cannot be derived from a {type(value).__name__}")


def write_key(scope: str, target: Side, operation: str, subject: Sequence[str | None], change: object) -> str:
    """The idempotency key of one write of a decision (see the module docstring)."""
    material = [KEY_FORMAT, scope, Side(target).value, operation, list(subject), _canonical(change)]
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "atl-" + hashlib.sha256(text.encode("ascii")).hexdigest()[:32]


BATCH_FORMAT = "atlas-desktop batch key 1"


def batch_key(write_keys: Sequence[str]) -> str:
    """The key of a document carrying these writes (a NetSuite externalId, an SAP header-text key).

    Derived from the writes' own keys, in any order: the same writes batched again get the same key (the
    remote refuses or finds it), and a batch that loses or gains a write gets another. "atb-" keeps it
    apart from the write keys in the same alphabet and length."""
    text = json.dumps([BATCH_FORMAT, sorted(write_keys)], separators=(",", ":"), ensure_ascii=True)
    return "atb-" + hashlib.sha256(text.encode("ascii")).hexdigest()[:32]
