"""Webhooks a service could not take are kept in the gateway's outbox and replayed to it.

Twilio does not retry an SMS webhook; without this, a text sent while intake restarts would be
lost. The service de-duplicates by CallSid / MessageSid / Message-ID, so a replay is harmless.
"""

from __future__ import annotations

import base64
import hashlib
import logging

from sqlalchemy.exc import IntegrityError

from gateway.proxy import Forwarder, Principal
from gateway.routes import Route, match
from gateway.state import GatewayState
from services.common.context import request_id_var
from services.common.http import ServiceResponse
from services.common.kit_models import OutboxMixin
from services.common.outbox import Sender, enqueue

log = logging.getLogger(__name__)


async def keep(state: GatewayState, route: Route, path: str, query: str, content_type: str,
               body: bytes, principal: Principal) -> bool:
    """Store the webhook for replay; False only when it could not be stored.

    Unit of work: the gateway keeps no session per request, and the webhook must be stored
    (committed) before the caller is answered that it was accepted."""
    digest = hashlib.sha256(path.encode() + b"?" + query.encode() + b"\n" + body).hexdigest()
    try:
        async with state.db.sessionmaker() as session, session.begin():
            enqueue(session, state.relay.model, key=f"spool:{digest}", target="spool",
                    path=path, now=state.clock.now(), delay=1.0,
                    payload={"query": query, "content_type": content_type,
                             "body": base64.b64encode(body).decode(), "kind": principal.kind,
                             "request_id": request_id_var.get()})
    except IntegrityError:
        return True  # the same webhook is already kept
    except Exception as exc:
        log.error("could not spool webhook", extra={"event": "gateway.spool_failed",
                                                    "error": type(exc).__name__})
        return False
    log.warning("webhook spooled for replay", extra={"event": "gateway.spooled",
                                                     "path": route.prefix})
    return True


def replayer(forwarder: Forwarder) -> Sender:
    """The outbox sender that replays a spooled webhook to its service."""

    async def send(row: OutboxMixin) -> ServiceResponse:
        route = match(row.path)
        if route is None:
            return ServiceResponse(404, None, {})
        payload = row.payload
        headers = forwarder.headers_for(
            [(b"content-type", payload["content_type"].encode("latin-1"))],
            Principal(kind=payload["kind"]), payload.get("request_id") or row.idempotency_key[6:38])
        headers["x-livewell-replay"] = "1"
        up = await forwarder.forward(route, "POST", row.path, payload["query"], headers,
                                     base64.b64decode(payload["body"]), timeout=15.0)
        return ServiceResponse(up.status, None, {k.decode(): v.decode() for k, v in up.headers})

    return send
