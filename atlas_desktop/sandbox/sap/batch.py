"""$batch: multipart parsing, atomic change sets, one operation each by default."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlsplit

from atlas_desktop.sandbox.sap import errors
from atlas_desktop.sandbox.sap.errors import GatewayError
from atlas_desktop.sandbox.sap.resource import ODataRequest, ODataResponse
from atlas_desktop.sandbox.sap.state import State

CRLF = "\r\n"


@dataclass
class _Part:
    headers: dict[str, str]
    body: str


@dataclass
class BatchOperation:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class ChangeSet:
    operations: list[BatchOperation] = field(default_factory=list)


def boundary_of(content_type: str) -> str | None:
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    return m.group(1).strip() if m else None


def _split(body: str, boundary: str) -> list[_Part]:
    """Parts between `--boundary` lines; missing closing delimiter -> 400 as Gateway answers."""
    delimiter, closing = f"--{boundary}", f"--{boundary}--"
    parts: list[list[str]] = []
    current: list[str] | None = None
    closed = False
    for line in body.splitlines(keepends=True):
        bare = line.rstrip("\r\n").rstrip()
        if bare == closing:
            if current is not None:
                parts.append(current)
            closed = True
            break
        if bare == delimiter:
            if current is not None:
                parts.append(current)
            current = []
            continue
        if current is not None:
            current.append(line)
    if not closed:
        raise GatewayError(400, errors.BATCH_ERROR, f"Missing boundary delimiter '--{boundary}--'")
    result = []
    for lines in parts:
        text = "".join(lines)
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
        headers, content = _headers_and_rest(text)
        result.append(_Part(headers, content))
    return result


def _headers_and_rest(text: str) -> tuple[dict[str, str], str]:
    m = re.search(r"\r?\n\r?\n", text)
    if m is None:
        head, rest = text, ""
    else:
        head, rest = text[: m.start()], text[m.end() :]
    headers: dict[str, str] = {}
    for line in head.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise GatewayError(400, errors.BATCH_ERROR, f"Invalid header line in $batch part: '{line[:60]}'")
        headers[name.strip().lower()] = value.strip()
    return headers, rest


def _operation(part: _Part) -> BatchOperation:
    if "application/http" not in part.headers.get("content-type", ""):
        raise GatewayError(400, errors.BATCH_ERROR, "Each $batch part needs Content-Type: application/http")
    text = part.body.lstrip("\r\n")
    first, _, rest = text.partition("\n")
    words = first.strip().split(" ")
    if len(words) != 3 or not words[2].startswith("HTTP/"):
        raise GatewayError(
            400, errors.BATCH_ERROR, f"Invalid request line in $batch part: '{first.strip()[:80]}'"
        )
    headers, body = _headers_and_rest(rest)
    return BatchOperation(words[0].upper(), words[1], headers, body.rstrip("\r\n").encode())


def parse_batch(body: bytes, content_type: str) -> list[BatchOperation | ChangeSet]:
    boundary = boundary_of(content_type)
    if "multipart/mixed" not in content_type or not boundary:
        raise GatewayError(
            400, errors.BATCH_ERROR, "$batch needs Content-Type: multipart/mixed; boundary=..."
        )
    items: list[BatchOperation | ChangeSet] = []
    for part in _split(body.decode("utf-8"), boundary):
        ctype = part.headers.get("content-type", "")
        if "multipart/mixed" in ctype:
            inner = boundary_of(ctype)
            if not inner:
                raise GatewayError(400, errors.BATCH_ERROR, "Change set without boundary")
            items.append(ChangeSet([_operation(p) for p in _split(part.body, inner)]))
        else:
            items.append(_operation(part))
    return items


def to_request(op: BatchOperation, service_root: str, service_path: str) -> ODataRequest:
    """A batch operation's URL is relative to the service root (or an absolute path/URL into it)."""
    target = op.target
    if target.startswith(("http://", "https://")):
        split = urlsplit(target)
        target = split.path + (f"?{split.query}" if split.query else "")
    path, _, query = target.partition("?")
    if path.startswith("/"):
        if not path.startswith(service_path):
            raise GatewayError(400, errors.BATCH_ERROR, f"$batch part addresses another service: {path}")
        path = path[len(service_path) :]
    return ODataRequest(
        method=op.method,
        path=unquote(path).lstrip("/"),
        query=parse_qsl(query, keep_blank_values=True),
        headers=op.headers,
        body=op.body,
        service_root=service_root,
    )


_MULTI_OPERATION = GatewayError(
    400, errors.CHANGESET_DEFAULT, "Default changeset implementation allows only one operation"
)


class _ChangeSetFailed(Exception):
    def __init__(self, response: ODataResponse) -> None:
        self.response = response


def run_batch(
    items: list[BatchOperation | ChangeSet],
    state: State,
    execute: Callable[[BatchOperation], ODataResponse],
    *,
    multi_operation_changesets: bool = False,
) -> tuple[str, bytes]:
    """Run every part; each change set in one transaction. Returns (content type, body).

    Gateway's default change-set implementation refuses a change set of several operations [R]; services that
    redefine changeset_begin accept them: `multi_operation_changesets`.
    """
    boundary = f"batchresponse_{secrets.token_hex(8)}"
    chunks: list[str] = []
    for item in items:
        chunks.append(f"--{boundary}{CRLF}")
        if isinstance(item, BatchOperation):
            if item.method != "GET":
                response = _error_response(
                    GatewayError(400, errors.BATCH_ERROR, "Modifying requests must be inside a change set")
                )
            else:
                response = execute(item)
            chunks.append(_http_part(response))
            continue
        responses: list[ODataResponse] = []
        if len(item.operations) > 1 and not multi_operation_changesets:
            chunks.append(_http_part(_error_response(_MULTI_OPERATION)))
            continue
        try:
            with state.transaction():
                for op in item.operations:
                    if op.method == "GET":
                        raise _ChangeSetFailed(
                            _error_response(
                                GatewayError(400, errors.BATCH_ERROR, "Change sets must not contain GET")
                            )
                        )
                    response = execute(op)
                    if response.status >= 400:
                        raise _ChangeSetFailed(response)
                    responses.append(response)
        except _ChangeSetFailed as failed:
            # One error answer for the whole change set; its writes were rolled back.
            chunks.append(_http_part(failed.response))
            continue
        inner = f"changesetresponse_{secrets.token_hex(8)}"
        chunks.append(f"Content-Type: multipart/mixed; boundary={inner}{CRLF}{CRLF}")
        for response in responses:
            chunks.append(f"--{inner}{CRLF}")
            chunks.append(_http_part(response))
        chunks.append(f"--{inner}--{CRLF}")
    chunks.append(f"--{boundary}--{CRLF}")
    return f"multipart/mixed; boundary={boundary}", "".join(chunks).encode("utf-8")


def _error_response(err: GatewayError) -> ODataResponse:
    from atlas_desktop.sandbox.sap.errors import error_bytes

    return ODataResponse(err.status, {"content-type": "application/json;charset=utf-8"}, error_bytes(err))


def _http_part(response: ODataResponse) -> str:
    reason = HTTPStatus(response.status).phrase
    lines = [
        "Content-Type: application/http",
        "Content-Transfer-Encoding: binary",
        "",
        f"HTTP/1.1 {response.status} {reason}",
    ]
    body = response.body.decode("utf-8")
    for name, value in response.headers.items():
        lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(response.body)}")
    lines.append("")
    return CRLF.join(lines) + CRLF + body + CRLF
