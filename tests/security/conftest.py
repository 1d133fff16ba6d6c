"""Security and hostile-input checks against the real processes: one system per backend for
this package (its own database), spoken to only as an outsider would."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from gateway import keys
from services.common.clock import Clock
from services.common.db import Database
from services.common.settings import Settings
from tests.support.stack import Stack, stack_on

# The fuzzer sends a few hundred requests a minute with one key, and these tests send
# hundreds of refused requests from 127.0.0.1; the per-key and per-address limits are the
# gateway's own concern (tested in tests/gateway), not what these tests are about.
SECURITY_ENV = {"LIVEWELL_GATEWAY_RATE_LIMIT_KEY": "100000/minute",
                "LIVEWELL_GATEWAY_RATE_LIMIT_ANONYMOUS": "100000/minute",
                "LIVEWELL_GATEWAY_RATE_LIMIT_PUBLIC_PAGES": "100000/minute",
                "LIVEWELL_GATEWAY_RATE_LIMIT_PUBLIC_FORMS": "100000/minute"}


@pytest.fixture(scope="package")
def stack(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole system on SQLite or on a fresh PostgreSQL database."""
    with stack_on(backend, tmp_path_factory.mktemp(f"security-{backend}"),
                  extra_env=SECURITY_ENV) as s:
        yield s


async def issue_keys(stack: Stack, *wanted: tuple[str, str]) -> None:
    """Keys for (organisation, role) pairs, made up front; `stack.key()` and `stack.auth()`
    then return them."""
    for org, role in wanted:
        stack.key(org, role)


async def revoke_key(stack: Stack, org: str, role: str = "partner") -> None:
    """Revoke the key of `org` with the code `livewell keys revoke` runs."""
    prefix = stack.key(org, role).split("_")[1]
    db = _gateway_db(stack)
    try:
        async with db.sessionmaker() as session, session.begin():
            assert await keys.revoke(session, prefix, Clock().now())
    finally:
        await db.dispose()


def _gateway_db(stack: Stack) -> Database:
    settings = Settings(_env_file=None, database_url=stack.env["DATABASE_URL"],
                        var_dir=stack.var_dir)
    return Database(settings, "gateway")


def voice_params(stack: Stack, **extra: str) -> dict[str, str]:
    """The form Twilio posts for a new incoming call."""
    return {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": "AC" + "5eed" * 8,
            "From": "+447911000123", "To": stack.twilio_number, "CallStatus": "ringing",
            "Direction": "inbound", "ApiVersion": "2010-04-01", **extra}


def sms_params(stack: Stack, body: str, sender: str = "+447911000456") -> dict[str, str]:
    """The form Twilio posts for an incoming SMS."""
    return {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "5eed" * 8,
            "From": sender, "To": stack.twilio_number, "Body": body, "NumMedia": "0",
            "ApiVersion": "2010-04-01"}


def referral(subject: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A valid partner referral (fictional person) with `subject` fields replaced."""
    body: dict[str, Any] = {
        "subject": {"given_name": "Test", "family_name": "Person", "email": "t@example.org",
                    "postcode": "SW2 1AA", **(subject or {})},
        "reason": "Asked for support.", "needs": [], "urgency": "routine",
        "risk": {"immediate_danger": False, "self_harm": False, "harm_to_others": False,
                 "safeguarding": False},
        "consent": {"subject_informed": True},
        "referrer": {"name": "Test Referrer", "role": "Housing officer"},
    }
    body.update(extra)
    return body
