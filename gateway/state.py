"""What the gateway builds once in its lifespan, in one typed place its modules share.

`gateway.app` builds it; admission, the spool, the operators' pages and the report read it.
It lives apart from the app so that they need not import the module that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from gateway.breaker import Breaker
from gateway.config import GatewaySettings
from gateway.identity.gate import Identity
from gateway.keys import KeyStore
from gateway.metrics import ServiceMetrics
from gateway.openapi import OpenApiCache
from gateway.proxy import Forwarder
from gateway.ratelimit import RateLimits
from gateway.signatures import TwilioSignature
from services.common.clock import Clock
from services.common.db import Database
from services.common.http import ServiceClient
from services.common.outbox import OutboxRelay
from services.common.settings import Settings


@dataclass
class GatewayState:
    settings: Settings
    config: GatewaySettings
    db: Database
    keys: KeyStore
    forwarder: Forwarder
    client: ServiceClient
    limits: RateLimits
    twilio: TwilioSignature
    openapi: OpenApiCache
    metrics: ServiceMetrics
    relay: OutboxRelay
    clock: Clock
    breakers: dict[str, Breaker]
    identity: Identity  # staff sign-in: the report admits signed-in coordinators


def state_of(request: Request) -> GatewayState:
    """The state of the gateway whose own page `request` is (set by its lifespan)."""
    state = getattr(request.app.state, "gateway", None)
    if not isinstance(state, GatewayState):
        raise RuntimeError("the gateway's pages are served only once its lifespan has run")
    return state
