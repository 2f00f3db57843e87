"""The receiver under arbitrary requests: every answer is one of its documented statuses, never a 500."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas_desktop.app.api.signature import SIGNATURE_HEADER, sign
from tests.webhooks.world import close_world, make_world

DOCUMENTED = {202, 400, 401, 404, 409, 413}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
events = st.fixed_dictionaries(
    {"type": st.sampled_from(["inventory.updated", "item.created", "x", ""]) | st.text(max_size=5)},
    optional={"event_type": st.text(max_size=30), "data": json_values},
)
bodies = st.one_of(
    st.binary(max_size=300),
    events.map(lambda e: json.dumps(e).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"[" * 5000 + b"]" * 5000, b'{"type": "\\ud800"}', b"\xef\xbb\xbf{}", b"null"]),
)
headers = st.one_of(
    st.none(),
    st.text(max_size=80).filter(lambda t: all(" " <= ch <= "~" for ch in t)),
    st.sampled_from(["t=²,v1=" + "a" * 64, "t=,v1=", "v1=" + "0" * 64, "t=99999999999999999999,v1=ab"]),
)


def test_no_request_makes_the_receiver_fail(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    world, cm = make_world(tmp_path)
    try:
        world.webhooks.enable(world.connection_id, port=8765)
        secret = world.webhooks.secret(world.connection_id).reveal()

        async def post(path: str, body: bytes, header: str | None) -> httpx.Response:
            sent = {} if header is None else {SIGNATURE_HEADER: header.encode("utf-8")}  # "t=²" as raw bytes
            async with world.client() as client:
                return await client.post(path, content=body, headers=sent)

        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            body=bodies,
            header=headers,
            signed=st.booleans(),
            erp=st.sampled_from(["netsuite", "sap", "x", "%00"]),
            known=st.booleans(),
        )
        def check(body: bytes, header: str | None, signed: bool, erp: str, known: bool) -> None:
            connection_id = world.connection_id if known else "no-such-connection"
            if signed:
                header = sign(secret, body, int(time.time()))
            response = loop.run_until_complete(post(f"/api/erp/webhooks/{erp}/{connection_id}", body, header))
            assert response.status_code in DOCUMENTED, (response.status_code, response.text)
            assert "Traceback" not in response.text

        check()
        loop.run_until_complete(world.receiver.trigger.idle())
    finally:
        loop.run_until_complete(close_world(world, cm))
        loop.close()
