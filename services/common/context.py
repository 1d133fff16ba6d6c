"""Per-request context: the request id and the actor the gateway vouched for."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

ActorKind = Literal["key", "twilio", "email", "service", "system", "anonymous"]
Role = Literal["partner", "staff", "admin"]

# Headers the gateway sets on every forwarded request; it strips any a client sends.
H_INTERNAL_TOKEN = "x-internal-token"
H_REQUEST_ID = "x-request-id"
H_ACTOR_KIND = "x-livewell-actor-kind"
H_KEY_ID = "x-livewell-key-id"
H_ORG = "x-livewell-org"
H_ROLE = "x-livewell-role"
INTERNAL_HEADERS = (H_INTERNAL_TOKEN, H_ACTOR_KIND, H_KEY_ID, H_ORG, H_ROLE)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: an API key (with organisation and role), a webhook source or a service."""

    kind: ActorKind
    key_id: str | None = None
    org: str | None = None
    role: Role | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in ("staff", "admin")


SYSTEM = Actor(kind="system")
