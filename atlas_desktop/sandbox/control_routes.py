"""The demo's "act as a user" routes (`/_sandbox/...`): a JSON wrapper put in front of an emulator's app.

They sit outside the fault middleware, as its own control routes do: a fault injected for the client under
test never refuses the demo's own actions, and the request counters see only the client's traffic.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Handler = Callable[[dict[str, Any]], Any]  # the JSON body (empty for GET) -> a JSON-able answer


class ControlError(Exception):
    """A refused action: the status and a sentence for the person who asked (the CLI prints it)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ControlRoute:
    method: str
    path: str
    handler: Handler


def _reply(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status_code=status, media_type="application/json")


def _endpoint(handler: Handler) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            raw = await request.body()
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ControlError(400, "the body must be a JSON object")
            return _reply(handler(body))
        except json.JSONDecodeError as exc:
            return _reply({"error": f"the body is not JSON ({exc.msg})"}, 400)
        except ControlError as exc:
            return _reply({"error": exc.message}, exc.status)

    return endpoint


class ControlRoutes:
    """ASGI: requests to `routes` go to them; everything else (and the emulator's attributes, such as the
    fault middleware's `stats`) to the wrapped app."""

    def __init__(self, app: Any, routes: Sequence[ControlRoute]) -> None:
        self.app = app
        self.paths = {route.path for route in routes}
        self.control = Starlette(
            routes=[Route(r.path, _endpoint(r.handler), methods=[r.method]) for r in routes]
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/") in self.paths:
            await self.control(scope, receive, send)
        else:
            await self.app(scope, receive, send)


# ---- what every action's body carries ---------------------------------------------------------------
def text_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ControlError(400, f"'{name}' is required (text)")
    return value


def quantity_field(body: dict[str, Any], name: str = "quantity") -> Decimal:
    """A positive Decimal; given as a JSON string or integer, never a float (which may not be exact)."""
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ControlError(400, f"'{name}' is required: a number as text, e.g. \"3\"")
    try:
        quantity = Decimal(str(value))
    except InvalidOperation:
        raise ControlError(400, f"'{name}': {value!r} is not a number") from None
    if not quantity.is_finite() or quantity <= 0:
        raise ControlError(400, f"'{name}' must be above zero")
    return quantity


def date_field(body: dict[str, Any], name: str) -> date:
    value = text_field(body, name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ControlError(400, f"'{name}': {value!r} is not a date (YYYY-MM-DD)") from None
