"""OData v2 $batch: one multipart/mixed request, one change set per write; the answer split per change set.

Format (OData v2 batch spec): CRLF line ends; each part `Content-Type: application/http` and
`Content-Transfer-Encoding: binary`, then the request line, headers, one blank line, the body. A change
set is atomic; a failed one answers with ONE response (not wrapped in a change set), so answers are
matched to change sets by position.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from atlas_desktop.connectors.offload import loads_json

CRLF = "\r\n"


@dataclass(frozen=True)
class BatchOperation:
    method: str
    path: str  # relative to the service root, e.g. "A_MaterialDocumentHeader"
    body: Mapping[str, Any]


def encode_batch(changesets: Sequence[BatchOperation]) -> tuple[str, bytes]:
    """(content type, body) with each operation in its own change set."""
    boundary = f"batch_{uuid.uuid4().hex}"
    lines: list[str] = []
    for index, operation in enumerate(changesets, start=1):
        changeset = f"changeset_{uuid.uuid4().hex}"
        payload = json.dumps(operation.body, separators=(",", ":"), ensure_ascii=False)
        lines += [
            f"--{boundary}",
            f"Content-Type: multipart/mixed; boundary={changeset}",
            "",
            f"--{changeset}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: {index}",
            "",
            f"{operation.method} {operation.path} HTTP/1.1",
            "Content-Type: application/json",
            "Accept: application/json",
            f"Content-Length: {len(payload.encode('utf-8'))}",
            "",
            payload,
            f"--{changeset}--",
            "",
        ]
    lines += [f"--{boundary}--", ""]
    return f"multipart/mixed; boundary={boundary}", CRLF.join(lines).encode("utf-8")


def encode_reads(targets: Sequence[str]) -> tuple[str, bytes]:
    """(content type, body) with one retrieval per target ("A_Set?$filter=..."), outside any change set.

    A GET part still ends its headers with a blank line: Gateway refuses a part without it (ref §8).
    """
    boundary = f"batch_{uuid.uuid4().hex}"
    lines: list[str] = []
    for target in targets:
        lines += [
            f"--{boundary}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "",
            f"GET {target} HTTP/1.1",
            "Accept: application/json",
            "",
            "",
        ]
    lines += [f"--{boundary}--", ""]
    return f"multipart/mixed; boundary={boundary}", CRLF.join(lines).encode("utf-8")


@dataclass(frozen=True)
class PartResponse:
    """One embedded HTTP response of a $batch answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return loads_json(self.body) if self.body.strip() else None


def _boundary(content_type: str) -> str | None:
    for piece in content_type.split(";"):
        name, _, value = piece.strip().partition("=")
        if name.lower() == "boundary":
            return value.strip().strip('"')
    return None


def _split(body: bytes, boundary: str) -> list[bytes]:
    """The parts between `--boundary` lines (tolerates LF-only line ends)."""
    delimiter = b"--" + boundary.encode("latin-1")
    pieces = body.split(delimiter)
    parts: list[bytes] = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        parts.append(piece.lstrip(b"\r\n") if piece.startswith((b"\r\n", b"\n")) else piece)
    return parts


def _head_and_body(block: bytes) -> tuple[dict[str, str], bytes]:
    for separator in (b"\r\n\r\n", b"\n\n"):
        if separator in block:
            head, body = block.split(separator, 1)
            break
    else:
        head, body = block, b""
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers, body


def _http_response(block: bytes) -> PartResponse:
    """ "HTTP/1.1 201 Created", headers, a blank line, the body -> PartResponse."""
    text = block.lstrip(b"\r\n")
    status_line, _, rest = text.partition(b"\n")
    try:
        status = int(status_line.decode("latin-1").split()[1])
    except (IndexError, ValueError):
        raise ValueError(f"not an HTTP status line: {status_line[:40]!r}") from None
    if rest.startswith((b"\r\n", b"\n")):  # no headers at all
        headers: dict[str, str] = {}
        body = rest.split(b"\n", 1)[1]
    else:
        headers, body = _head_and_body(rest)
    return PartResponse(status, headers, body.rstrip(b"\r\n"))


def decode_batch(response: httpx.Response) -> list[list[PartResponse]]:
    """Per top-level part: the responses inside it (a change set answers one per operation, or one error)."""
    boundary = _boundary(response.headers.get("content-type", ""))
    if not boundary:
        raise ValueError("the $batch answer is not multipart")
    answers: list[list[PartResponse]] = []
    for part in _split(response.content, boundary):
        headers, body = _head_and_body(part)
        content_type = headers.get("content-type", "")
        inner = _boundary(content_type) if content_type.lower().startswith("multipart/mixed") else None
        if inner:
            answers.append([_http_response(_head_and_body(p)[1]) for p in _split(body, inner)])
        else:
            answers.append([_http_response(body)])
    return answers


def as_httpx(part: PartResponse, request: httpx.Request) -> httpx.Response:
    """An embedded response as an httpx.Response, so the ordinary error mapping reads it."""
    return httpx.Response(part.status, headers=dict(part.headers), content=part.body, request=request)
