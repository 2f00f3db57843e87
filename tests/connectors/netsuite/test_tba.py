"""The TBA signer: Oracle's published test vector, fresh nonces per send, query params signed not sent."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import httpx

from atlas_desktop.connectors.http import HttpClient, HttpSettings
from atlas_desktop.connectors.netsuite import build_connector
from atlas_desktop.connectors.netsuite.tba import (
    NONCE_LENGTH,
    TbaAuth,
    authorization_header,
    netsuite_host,
    new_nonce,
)
from atlas_desktop.domain.secrets import Secret

from .helpers import CONSUMER_SECRET, TOKEN_SECRET, Recorder, make_spec, no_sleep

VECTOR_URL = (
    "https://1234567.restlets.api.netsuite.com/app/site/hosting/restlet.nl"
    "?script=6&deploy=1&customParam=someValue&testParam=someOtherValue"
)


def test_published_test_vector() -> None:
    header = authorization_header(
        "POST",
        VECTOR_URL,
        realm="1234567",
        consumer_key="ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4",
        consumer_secret="d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5",
        token_id="2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc",
        token_secret="c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295",
        nonce="fjaLirsIcCGVZWzBX0pg",
        timestamp="1508242306",
    )
    params = parse_header(header)
    assert params["oauth_signature"] == "i7MEtGwhCTIZbTsTrNGw9LdcERn4wsjt5C7TxmKWIfU="
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    assert params["realm"] == "1234567"
    # query parameters are signed but never put in the header
    assert not {"script", "deploy", "customParam", "testParam"} & set(params)


def test_nonces_are_long_alphanumeric_and_unique() -> None:
    nonces = [new_nonce() for _ in range(2000)]
    assert len(set(nonces)) == len(nonces)
    for nonce in nonces:
        # Oracle: at least 6 characters (ideally 20), letters and digits only.
        assert len(nonce) == NONCE_LENGTH >= 20
        assert nonce.isascii() and nonce.isalnum()


def test_host_from_account_id() -> None:
    assert netsuite_host("1234567_SB1") == "1234567-sb1.suitetalk.api.netsuite.com"
    assert netsuite_host("1234567") == "1234567.suitetalk.api.netsuite.com"


def parse_header(header: str) -> dict[str, str]:
    assert header.startswith("OAuth ")
    result = {}
    for part in header[len("OAuth ") :].split(", "):
        name, _, value = part.partition("=")
        result[name] = unquote(value.strip('"'))
    return result


def independent_signature(request: httpx.Request, params: dict[str, str]) -> str:
    """RFC 5849 §3.4 written out by hand, to check the signer against something that is not oauthlib."""

    def enc(text: str) -> str:
        return quote(text, safe="-._~")

    parts = urlsplit(str(request.url))
    base_uri = f"{parts.scheme}://{parts.netloc.lower()}{parts.path}"
    pairs = [(k, v) for k, v in params.items() if k not in ("oauth_signature", "realm")]
    pairs += parse_qsl(parts.query, keep_blank_values=True)
    normalized = "&".join(f"{k}={v}" for k, v in sorted((enc(k), enc(v)) for k, v in pairs))
    base = "&".join([request.method.upper(), enc(base_uri), enc(normalized)])
    key = f"{enc(CONSUMER_SECRET)}&{enc(TOKEN_SECRET)}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()


async def test_every_send_is_signed_afresh_including_retries() -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, json={"id": "1"})])
    recorder = Recorder(lambda request: next(answers))
    spec = make_spec()
    auth = TbaAuth(
        account_id="1234567_SB1",
        consumer_key=spec.secrets["consumer_key"],
        consumer_secret=Secret(CONSUMER_SECRET),
        token_id=spec.secrets["token_id"],
        token_secret=Secret(TOKEN_SECRET),
    )
    client = HttpClient(
        HttpSettings(base_url="http://127.0.0.1:9"),
        auth=auth,
        transport=httpx.MockTransport(recorder),
        sleep=no_sleep,
    )
    response = await client.request(
        "GET", "/services/rest/record/v1/inventoryItem/5", params={"fields": "a,b c"}
    )
    assert response.status_code == 200
    first, second = (parse_header(r.headers["Authorization"]) for r in recorder.requests)
    assert first["oauth_nonce"] != second["oauth_nonce"]
    for request, params in zip(recorder.requests, (first, second), strict=True):
        assert len(params["oauth_nonce"]) >= 20 and params["oauth_nonce"].isalnum()
        assert params["realm"] == "1234567_SB1"
        assert "fields" not in params and "oauth_body_hash" not in params
        assert params["oauth_signature"] == independent_signature(request, params)


async def test_json_body_not_signed_and_base_url_keeps_production_paths() -> None:
    recorder = Recorder(
        lambda request: httpx.Response(
            200, json={"items": [], "hasMore": False, "count": 0, "offset": 0, "totalResults": 0}
        )
    )
    connector = build_connector(make_spec(), transport=httpx.MockTransport(recorder), sleep=no_sleep)
    page = await connector.client.suiteql_page("SELECT id FROM item ORDER BY id")
    assert page.items == []
    request = recorder.requests[0]
    assert str(request.url).startswith("http://127.0.0.1:8765/services/rest/query/v1/suiteql?")
    assert request.headers["Prefer"] == "transient"
    params = parse_header(request.headers["Authorization"])
    assert "oauth_body_hash" not in params
    assert params["oauth_signature"] == independent_signature(request, params)
    await connector.aclose()


def test_production_host_when_no_base_url() -> None:
    data = make_spec().settings
    assert "base_url" in data
    spec = make_spec(base_url=None)
    connector = build_connector(spec)
    assert connector.http.base_url == "https://1234567-sb1.suitetalk.api.netsuite.com"
    assert repr(connector.http.raw.auth) == "TbaAuth(realm='1234567_SB1')"
