"""A tiny scripted SAP for shape tests: CSRF sessions with cookies, material document posting and lookup."""

from __future__ import annotations

import json
from decimal import Decimal as Decimal_
from typing import Any

import httpx


class FakeSap:
    """Validates CSRF exactly like Gateway (token must belong to the session cookie) and keeps documents."""

    def __init__(self) -> None:
        self.sessions: dict[str, str] = {}  # cookie value -> token
        self.fetches = 0
        self.posts: list[dict[str, Any]] = []
        self.documents: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.batch_bodies: list[dict[str, Any]] = []
        self.post_hook = None  # optional callable(request, body) -> httpx.Response | None

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def _cookie(self, request: httpx.Request) -> str | None:
        for part in request.headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "SAP_SESSIONID_S4H_100":
                return value
        return None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "GET" and request.headers.get("x-csrf-token", "").lower() == "fetch":
            self.fetches += 1
            session, token = f"s{self.fetches}", f"token-{self.fetches}-xyz"
            self.sessions[session] = token
            return httpx.Response(
                200,
                json={"d": {"EntitySets": ["A_MaterialDocumentHeader"]}},
                headers={"x-csrf-token": token, "set-cookie": f"SAP_SESSIONID_S4H_100={session}; path=/"},
            )
        if request.method == "POST":
            cookie = self._cookie(request)
            if cookie is None or self.sessions.get(cookie) != request.headers.get("x-csrf-token"):
                return httpx.Response(
                    403, text="CSRF token validation failed", headers={"x-csrf-token": "Required"}
                )
            if request.url.path.endswith("/$batch"):
                return self.batch(request)
            body = json.loads(request.content)
            if self.post_hook is not None:
                answer = self.post_hook(request, body)
                if answer is not None:
                    return answer
            return self.create(body)
        if request.method == "GET" and request.url.path.endswith("A_MaterialDocumentHeader"):
            wanted = request.url.params.get("$filter", "").split("'")[1]
            rows = [d for d in self.documents if d["MaterialDocumentHeaderText"] == wanted]
            return httpx.Response(200, json={"d": {"results": rows}})
        return httpx.Response(404, json={"error": {"code": "X", "message": {"value": "no route"}}})

    def create(self, body: dict[str, Any]) -> httpx.Response:
        self.posts.append(body)
        number = str(4900000000 + len(self.documents) + 1)
        doc = {
            "MaterialDocument": number,
            "MaterialDocumentYear": "2025",
            "MaterialDocumentHeaderText": body.get("MaterialDocumentHeaderText", ""),
            "to_MaterialDocumentItem": {"results": [{"ReversedMaterialDocument": ""}]},
        }
        self.documents.append(doc)
        return httpx.Response(201, json={"d": {**doc, "to_MaterialDocumentItem": {"results": []}}})

    def cancel(self, number: str) -> str:
        """A reversal carrying the original's header text, listed first: a server promises no order."""
        original = next(d for d in self.documents if d["MaterialDocument"] == number)
        reversal = {
            "MaterialDocument": str(4900000000 + len(self.documents) + 1),
            "MaterialDocumentYear": original["MaterialDocumentYear"],
            "MaterialDocumentHeaderText": original["MaterialDocumentHeaderText"],
            "to_MaterialDocumentItem": {"results": [{"ReversedMaterialDocument": number}]},
        }
        self.documents.insert(0, reversal)
        return reversal["MaterialDocument"]

    def batch(self, request: httpx.Request) -> httpx.Response:
        """Parsed with the stdlib email package (independent of the connector's parser)."""
        import email
        from email import policy

        message = email.message_from_bytes(
            b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n" + request.content,
            policy=policy.HTTP,
        )
        out: list[str] = []
        for changeset in message.iter_parts():
            (operation,) = list(changeset.iter_parts())
            raw = operation.get_payload(decode=True).decode()
            request_line, _, rest = raw.partition("\r\n")
            assert request_line == "POST A_MaterialDocumentHeader HTTP/1.1", request_line
            body = json.loads(rest.split("\r\n\r\n", 1)[1])
            self.batch_bodies.append(body)
            if Decimal_(body["to_MaterialDocumentItem"][0]["QuantityInEntryUnit"]) > 100:
                err = json.dumps(
                    {"error": {"code": "M7/021", "message": {"value": "Deficit of unrestricted"}}}
                )
                out.append(
                    "--resp\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
                    f"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n{err}\r\n"
                )
                continue
            created = self.create(body).content.decode()
            out.append(
                "--resp\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\n"
                "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
                f"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\r\n{created}\r\n--cs--\r\n"
            )
        text = "".join(out) + "--resp--\r\n"
        return httpx.Response(
            202, content=text.encode(), headers={"content-type": "multipart/mixed; boundary=resp"}
        )
