"""Reading request bodies within a limit and writing the gateway's own answers (plain ASGI)."""

from __future__ import annotations

import json

from starlette.types import Receive, Send

from gateway.proxy import Upstream
from services.common.errors import PROBLEM_BASE, PROBLEM_JSON

TWIML = b"text/xml; charset=utf-8"


class TooLarge(Exception):
    pass


def problem(status: int, slug: str, title: str, detail: str, field: str | None = None) -> bytes:
    """An RFC 9457 body; `field` names what was wrong, as the services' errors do."""
    body: dict[str, object] = {"type": PROBLEM_BASE + slug, "title": title, "status": status,
                               "detail": detail}
    if field:
        body["errors"] = [{"loc": [field], "msg": detail}]
    return json.dumps(body).encode()


async def send_problem(send: Send, status: int, slug: str, title: str, detail: str, *,
                       field: str | None = None,
                       extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await send_body(send, status, PROBLEM_JSON.encode(),
                    problem(status, slug, title, detail, field), extra)


async def read_body(receive: Receive, headers: dict[bytes, bytes], limit: int) -> bytes:
    """The whole body, or TooLarge as soon as it (or its declared length) passes `limit`."""
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def send_body(send: Send, status: int, content_type: bytes, body: bytes,
                    extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
               *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_upstream(send: Send, upstream: Upstream) -> None:
    headers = [*upstream.headers, (b"content-length", str(len(upstream.body)).encode())]
    await send({"type": "http.response.start", "status": upstream.status, "headers": headers})
    await send({"type": "http.response.body", "body": upstream.body})
