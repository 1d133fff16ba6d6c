"""Who is calling, decided as cheaply as possible: Twilio's signature over a capped body, the
mail provider's basic auth or a bearer key from the headers alone; and the per-address count
of failures that turns a source that keeps failing away before any work (docs/gateway.md)."""

from __future__ import annotations

import asyncio
import logging

from starlette.types import Receive, Send

from gateway.proxy import Principal
from gateway.responses import TooLarge, read_body, send_problem
from gateway.routes import Route
from gateway.signatures import basic_auth_password, form_parameter_count, same_secret
from gateway.state import GatewayState

log = logging.getLogger("gateway")
# A Twilio body larger than this is checked in a worker thread, never on the event loop.
OFFLOAD_BYTES = 16_384


async def twilio_body(state: GatewayState, receive: Receive, headers: dict[bytes, bytes],
                      content_type: str, send: Send, address: str) -> bytes | None:
    """The body of a Twilio webhook within the size and parameter caps, or None (refused: the
    answer is sent and the address charged)."""
    limit = state.config.max_twilio_bytes
    try:
        body = await read_body(receive, headers, limit)
    except TooLarge:
        await charge(state, address)
        await send_problem(send, 413, "payload-too-large", "Payload too large",
                           f"The body must be at most {limit} bytes.")
        return None
    most = state.config.max_form_params
    if (content_type.startswith("application/x-www-form-urlencoded")
            and form_parameter_count(body) > most):
        await charge(state, address)
        await send_problem(send, 413, "payload-too-large", "Payload too large",
                           f"A form may carry at most {most} parameters.", field="body")
        return None
    return body


async def twilio(state: GatewayState, route: Route, path: str, query: str,
                 headers: dict[bytes, bytes], body: bytes, content_type: str, send: Send,
                 address: str) -> Principal | None:
    """Twilio, when the signature is right; otherwise None once refused with 403."""
    sig = headers.get(b"x-twilio-signature", b"").decode("latin-1") or None
    if sig is not None:
        args = (path, query, body, content_type, sig)
        valid = (await asyncio.to_thread(state.twilio.valid, *args)
                 if len(body) > OFFLOAD_BYTES else state.twilio.valid(*args))
        if valid:
            return Principal(kind="twilio")
    log.warning("webhook signature rejected", extra={"event": "gateway.bad_signature",
                                                    "path": route.prefix})
    await charge(state, address)
    await send_problem(send, 403, "bad-signature", "Forbidden",
                       "Missing or invalid X-Twilio-Signature.")
    return None


async def credentials(state: GatewayState, route: Route, headers: dict[bytes, bytes],
                      send: Send, address: str) -> Principal | None:
    """The mail provider's basic auth or a bearer key, from the headers alone."""
    if route.auth == "public":  # the website: anyone, no sign-in
        return Principal(kind="anonymous")
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if route.auth == "email":
        if same_secret(basic_auth_password(auth), state.settings.email_secret):
            return Principal(kind="email")
        await charge(state, address)
        await send_problem(send, 401, "unauthorized", "Unauthorized",
                           "The inbound mail webhook needs HTTP basic auth.",
                           extra=[(b"www-authenticate", b'Basic realm="email"')])
        return None
    key = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    info = await state.keys.verify(key) if key else None
    if info is None:
        await charge(state, address)
        await send_problem(send, 401, "unauthorized", "Unauthorized",
                           "Send a valid key: Authorization: Bearer <key>.",
                           extra=[(b"www-authenticate", b"Bearer")])
        return None
    return Principal(kind="key", key_id=info.id, org=info.org, role=info.role)


async def charge(state: GatewayState | None, address: str) -> None:
    """Count a failed authentication or a hostile request against its source address."""
    if state is not None:
        await state.limits.failed(address)


async def refuse_blocked(state: GatewayState | None, address: str, send: Send) -> bool:
    """Answer 429 (and True) when `address` is over its limit of failures."""
    limits = state.limits if state else None
    if limits is None or not await limits.blocked(address):
        return False
    retry = await limits.retry_after(limits.anonymous, "anonymous", address)
    await send_problem(send, 429, "too-many-requests", "Too many requests",
                       f"Too many failed requests from this address; retry in {retry} s.",
                       extra=[(b"retry-after", str(retry).encode())])
    return True
