"""One pure-ASGI middleware for every service: internal token, request id, metrics."""

from __future__ import annotations

import hmac
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.context import H_INTERNAL_TOKEN, H_REQUEST_ID, request_id_var
from services.common.errors import PROBLEM_JSON
from services.common.metrics import HTTP_LATENCY, HTTP_REQUESTS

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_FORBIDDEN = (b'{"type":"https://livingwell.example/problems/forbidden","title":"Forbidden",'
              b'"status":403,"detail":"Services are reached through the gateway."}')


class ServiceMiddleware:
    """Refuses requests that did not come through the gateway or a sibling service."""

    def __init__(self, app: ASGIApp, *, service: str, token: str) -> None:
        self.app = app
        self.service = service
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        rid_raw = headers.get(H_REQUEST_ID.encode())
        rid = rid_raw.decode("latin-1")[:64] if rid_raw else uuid.uuid4().hex
        token = request_id_var.set(rid)
        path: str = scope["path"]
        status_box = [500]
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (H_REQUEST_ID.encode(), rid.encode())]
            await send(message)

        try:
            if path not in OPEN_PATHS and not hmac.compare_digest(
                headers.get(H_INTERNAL_TOKEN.encode(), b""), self.token
            ):
                await _reply(send_wrapper, 403, _FORBIDDEN)
                return
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            label = getattr(route, "path", None) or ("open" if path in OPEN_PATHS else "unmatched")
            HTTP_REQUESTS.labels(self.service, scope["method"], label, status_box[0]).inc()
            HTTP_LATENCY.labels(self.service, label).observe(time.perf_counter() - started)
            request_id_var.reset(token)


async def _reply(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM_JSON.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
