"""A remote write waiting in the outbox, and the states of the batches such writes are sent in."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.model import Side
from atlas_desktop.domain.operations import WriteOp, decode

# The states of a batch of writes sent as one request (write_batches.state).
BATCH_SENDING = "sending"
BATCH_POSTED = "posted"
BATCH_REFUSED = "refused"
BATCH_IN_DOUBT = "in_doubt"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    mapping_id: int | None
    decision_id: int | None
    target: Side
    operation: str
    payload: dict[str, Any]
    idempotency_key: str
    status: OutboxStatus
    attempts: int
    remote_id: str | None
    last_error: str | None = None
    quantity_delta: Decimal | None = None
    batch_key: str | None = None  # the batch it was last frozen into (write_batches), if it went batched
    _op: WriteOp | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def op(self) -> WriteOp:
        """The write to make, decoded from the stored form once (the pusher asks at every step);
        raises UnknownOperation for a row another version wrote."""
        op = self._op
        if op is None:
            op = decode(self.operation, self.payload)
            object.__setattr__(self, "_op", op)  # a cache, not a change: the entry stays as read
        return op
