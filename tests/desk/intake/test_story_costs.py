"""Intake's part of the person page's cost (`python -m bench.desk`): the story reads the six
columns it shows, of the person and their merged records, never whole contacts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event

from services.intake.models import Contact, Person
from tests.desk.test_referral_rules import person
from tests.intake.fakes import FakePeers
from tests.support.service import ServiceHarness


async def test_intake_reads_only_the_story_columns_of_a_person_and_their_merged_records(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    peers.on("GET", "/internal/desk/access", (200, {"allowed": True}))
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    async with intake.kit.db.sessionmaker() as session, session.begin():
        session.add_all([Person(id="p-keep", created_at=at, updated_at=at),
                         Person(id="p-gone", merged_into="p-keep", created_at=at,
                                updated_at=at)])
        await session.flush()
        for n, owner in enumerate(("p-keep", "p-gone")):
            session.add(Contact(id=f"c-{n}", channel="email", external_id=f"cost-{n}",
                                person_id=owner, body="x" * 2000, crisis=False,
                                created_at=at, updated_at=at))
    seen: list[str] = []

    def remember(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = intake.kit.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        resp = await intake.client.get("/api/v1/desk/people/p-keep/contacts",
                                       headers=person("kw-1"))
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert resp.status_code == 200, resp.text
    assert [len(c["summary"]) for c in resp.json()] == [500, 500]
    [read] = [s for s in seen if "FROM contact" in s or "FROM intake.contact" in s]
    assert "recording_url" not in read and "from_address" not in read, read
