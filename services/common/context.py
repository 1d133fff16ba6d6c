"""Per-request context: the request id and the actor the gateway vouched for."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

ActorKind = Literal["key", "twilio", "email", "service", "system", "anonymous", "person"]
Role = Literal["partner", "staff", "admin"]
# The role of a person signed in to the desk (kind `person`), apart from keys' roles.
PersonRole = Literal["key_worker", "coordinator", "admin"]

# Headers the gateway sets on every forwarded request; it strips any a client sends.
H_INTERNAL_TOKEN = "x-internal-token"
H_REQUEST_ID = "x-request-id"
H_ACTOR_KIND = "x-livewell-actor-kind"
H_KEY_ID = "x-livewell-key-id"
H_ORG = "x-livewell-org"
H_ROLE = "x-livewell-role"
# A signed-in person: their account id, role and linked key worker, and the CSRF token the
# desk puts in its forms (the gateway checks it; the desk never sees the session id).
H_PERSON_ID = "x-livewell-person-id"
H_PERSON_ROLE = "x-livewell-person-role"
H_KEYWORKER_ID = "x-livewell-keyworker-id"
H_CSRF = "x-livewell-csrf"
INTERNAL_HEADERS = (H_INTERNAL_TOKEN, H_ACTOR_KIND, H_KEY_ID, H_ORG, H_ROLE, H_PERSON_ID,
                    H_PERSON_ROLE, H_KEYWORKER_ID, H_CSRF)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: an API key (with organisation and role), a webhook source or a service."""

    kind: ActorKind
    key_id: str | None = None
    org: str | None = None
    role: Role | None = None
    person_id: str | None = None
    person_role: PersonRole | None = None
    keyworker_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in ("staff", "admin")

    @property
    def id(self) -> str | None:
        """The key's or the person's id, as audit entries record it."""
        return self.key_id or self.person_id

    @property
    def sees_everyone(self) -> bool:
        """A staff or admin key, or a coordinator or admin signed in: no caseload limit."""
        return self.is_staff or self.person_role in ("coordinator", "admin")


SYSTEM = Actor(kind="system")
