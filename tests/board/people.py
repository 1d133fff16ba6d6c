"""Actor headers of people signed in to the desk, as the gateway forwards them."""

from __future__ import annotations

from services.common.context import H_ACTOR_KIND, H_KEYWORKER_ID, H_PERSON_ID, H_PERSON_ROLE
from tests.support.service import key_headers

COORDINATOR = "acct-coordinator"


def signed_in(role: str, account: str | None = None, keyworker_id: str = "") -> dict[str, str]:
    return {H_ACTOR_KIND: "person", H_PERSON_ID: account or f"acct-{role}",
            H_PERSON_ROLE: role, H_KEYWORKER_ID: keyworker_id}


def refused_everyone_but_coordinators() -> list[dict[str, str]]:
    """Everyone the board refuses: a key worker signed in, and every kind of key."""
    return [signed_in("key_worker", keyworker_id="kw-1"),
            *(key_headers("Lambeth Police", role) for role in ("partner", "staff", "admin"))]
