"""The shared HTTP layer: URL policy, retry rules, Retry-After, concurrency limit, counters."""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from atlas_desktop.connectors.http import HttpClient, HttpSettings, build_ssl_context, parse_retry_after
from atlas_desktop.domain.errors import ConfigError, NetworkError


class Recorder:
    """A MockTransport handler answering from a script of responses/exceptions, recording requests."""

    def __init__(self, script: list[object]) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, Exception):
            raise item
        assert isinstance(item, httpx.Response)
        return item


def make_client(script: list[object], **overrides: object) -> tuple[HttpClient, Recorder, list[float]]:
    recorder = Recorder(script)
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    settings = HttpSettings(base_url="http://127.0.0.1:9", system="Test", **overrides)  # type: ignore[arg-type]
    client = HttpClient(settings, transport=httpx.MockTransport(recorder), sleep=fake_sleep)
    return client, recorder, sleeps


def test_plain_http_only_for_loopback() -> None:
    with pytest.raises(ConfigError, match="only allowed for this computer"):
        HttpClient(HttpSettings(base_url="http://erp.example.com"))
    HttpClient(HttpSettings(base_url="http://localhost:8080"))
    HttpClient(HttpSettings(base_url="https://erp.example.com"))


async def test_absolute_url_to_remote_plain_http_refused() -> None:
    client, _, _ = make_client([httpx.Response(200)])
    with pytest.raises(ConfigError):
        await client.request("GET", "http://evil.example.com/x")


async def test_get_retried_on_503_then_succeeds() -> None:
    client, recorder, sleeps = make_client([httpx.Response(503), httpx.Response(503), httpx.Response(200)])
    response = await client.request("GET", "/x")
    assert response.status_code == 200
    assert len(recorder.requests) == 3
    assert len(sleeps) == 2
    assert client.stats.api_calls == 3 and client.stats.api_errors == 2


async def test_post_without_key_not_retried_on_503() -> None:
    client, recorder, _ = make_client([httpx.Response(503), httpx.Response(200)])
    response = await client.request("POST", "/x", json={})
    assert response.status_code == 503
    assert len(recorder.requests) == 1


async def test_post_with_key_retried() -> None:
    client, recorder, _ = make_client([httpx.Response(503), httpx.Response(201)])
    response = await client.request("POST", "/x", json={}, idempotency_key="k1")
    assert response.status_code == 201
    assert len(recorder.requests) == 2


async def test_429_retried_even_for_plain_write_honouring_retry_after() -> None:
    client, recorder, sleeps = make_client(
        [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(204)]
    )
    response = await client.request("POST", "/x", json={})
    assert response.status_code == 204
    assert 7 <= sleeps[0] < 7 + client.settings.backoff_base_s


async def test_retry_after_too_long_returns_the_429() -> None:
    client, recorder, _ = make_client([httpx.Response(429, headers={"Retry-After": "3600"})])
    response = await client.request("GET", "/x")
    assert response.status_code == 429
    assert len(recorder.requests) == 1


async def test_gives_up_after_max_retries() -> None:
    client, recorder, _ = make_client([httpx.Response(503)], max_retries=2)
    response = await client.request("GET", "/x")
    assert response.status_code == 503
    assert len(recorder.requests) == 3


async def test_read_timeout_on_unkeyed_write_is_in_doubt() -> None:
    client, recorder, _ = make_client([httpx.ReadTimeout("slow")])
    with pytest.raises(NetworkError) as caught:
        await client.request("POST", "/x", json={"a": 1})
    assert caught.value.in_doubt is True
    assert len(recorder.requests) == 1


async def test_connect_error_always_retried_and_not_in_doubt() -> None:
    client, recorder, _ = make_client([httpx.ConnectError("refused")], max_retries=1)
    with pytest.raises(NetworkError) as caught:
        await client.request("POST", "/x", json={})
    assert caught.value.in_doubt is False
    assert len(recorder.requests) == 2
    assert "could not connect" in caught.value.message


async def test_keyed_write_timeout_retried() -> None:
    client, recorder, _ = make_client([httpx.ReadTimeout("slow"), httpx.Response(200)])
    response = await client.request("POST", "/x", idempotency_key="abc")
    assert response.status_code == 200
    assert len(recorder.requests) == 2


def test_full_jitter_bounds() -> None:
    client, _, _ = make_client([httpx.Response(200)], backoff_base_s=1.0, backoff_cap_s=8.0)
    for attempt in range(8):
        for _ in range(50):
            delay = client.backoff_delay(attempt)
            assert 0 <= delay <= min(8.0, 2**attempt)


def test_parse_retry_after_forms() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert parse_retry_after("5") == 5.0
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after("soon") is None
    assert parse_retry_after("²") is None and parse_retry_after("٣") is None  # not digits to us
    assert parse_retry_after("9" * 400) is None
    assert parse_retry_after(None) is None


async def test_concurrency_limit_holds() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200)

    settings = HttpSettings(base_url="http://127.0.0.1:9", max_concurrency=3)
    client = HttpClient(settings, transport=httpx.MockTransport(handler))
    await asyncio.gather(*(client.request("GET", f"/{i}") for i in range(20)))
    assert peak == 3
    await client.aclose()


def test_unreadable_ca_bundle_is_a_config_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ConfigError, match="ca_bundle"):
        build_ssl_context(HttpSettings(base_url="https://x.example.com", ca_bundle=bad))


def test_ssl_context_always_verifies() -> None:
    context = build_ssl_context(HttpSettings(base_url="https://x.example.com"))
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
