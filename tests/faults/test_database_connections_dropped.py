"""PostgreSQL drops every connection of the system (`pg_terminate_backend`) several times while
calls, texts and referrals arrive: pools reconnect, failed work is retried, nothing accepted is
lost or doubled."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.faults.conftest import assert_exactly_once, contact_counts, prepare, traffic
from tests.support.databases import PG_ADMIN_URL
from tests.support.stack import Stack, eventually

pytestmark = [pytest.mark.faults, pytest.mark.e2e]


@pytest.fixture(scope="module", autouse=True)
def _postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("connections to drop exist only on PostgreSQL")


def terminate_connections(database: str) -> int:
    """Kill every server process serving `database`; how many there were."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", (database,)).fetchall()
    return len(rows)


async def test_dropped_database_connections_lose_nothing(stack: Stack) -> None:
    database = make_url(stack.env["DATABASE_URL"]).database
    assert database
    await prepare(stack)
    dropped = []
    async with traffic(stack) as t:
        for _ in range(4):
            dropped.append(await asyncio.to_thread(terminate_connections, database))
            await asyncio.sleep(2.0)
    assert sum(dropped) > 0, "the services held no connections to drop"
    await assert_exactly_once(stack, t)


async def test_a_call_whose_database_connection_drops_mid_answer_is_still_recorded(
    stack: Stack,
) -> None:
    database = make_url(stack.env["DATABASE_URL"]).database
    assert database
    call = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": "AC" + "5eed" * 8,
            "From": "+447911800123", "To": stack.twilio_number, "CallStatus": "ringing",
            "Direction": "inbound", "ApiVersion": "2010-04-01"}
    with psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}") as locker:
        locker.execute("LOCK TABLE intake.contact IN ACCESS EXCLUSIVE MODE")
        async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=10) as http:
            answer = asyncio.create_task(http.post("/twilio/voice", data=call,
                                                   headers=stack.sign("/twilio/voice", call)))
            waiting: list[int] = await eventually(  # intake's transaction queues behind the lock
                lambda: asyncio.to_thread(_waiting_on_a_lock, database), interval=0.02,
                what="intake to reach the contact table")
            await asyncio.to_thread(_terminate, waiting)
            resp = await answer
        locker.rollback()
    assert resp.status_code == 200 and "999" in resp.text, "the caller hears the fail-safe"

    async def recorded() -> bool:
        return contact_counts(stack, [call["CallSid"]])[call["CallSid"]] == 1

    await eventually(recorded, timeout=20, interval=0.5, what="the call to be a contact")


def _waiting_on_a_lock(database: str) -> list[int]:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (database,)).fetchall()]


def _terminate(pids: list[int]) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
