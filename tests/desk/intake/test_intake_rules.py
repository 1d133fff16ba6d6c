"""Intake's role rule for people signed in: a person's contacts (their story) go to the key
worker who accepted a referral of theirs (referral says who), to coordinators, to no key."""

from __future__ import annotations

from sqlalchemy import select

from services.intake.models import AuditEntry, Contact
from tests.desk.test_referral_rules import person
from tests.intake.conftest import post_twilio
from tests.intake.fakes import FakePeers, mobile, sid
from tests.intake.test_sms import text
from tests.support.service import ServiceHarness, key_headers


async def a_person_who_texted(intake: ServiceHarness) -> str:
    message = sid("SM")
    resp = await post_twilio(intake, "/twilio/sms", text(message, mobile(), "I need to talk"))
    assert resp.status_code == 200, resp.text
    async with intake.kit.db.sessionmaker() as session:
        contact = await session.scalar(select(Contact).where(Contact.external_id == message))
    assert contact is not None and contact.person_id
    return contact.person_id


async def test_the_key_worker_holding_their_referral_reads_their_contacts(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    peers.on("GET", "/internal/desk/access", (200, {"allowed": True}))
    person_id = await a_person_who_texted(intake)
    resp = await intake.client.get(f"/api/v1/desk/people/{person_id}/contacts",
                                   headers=person("kw-1"))
    assert resp.status_code == 200, resp.text
    [contact] = resp.json()
    assert contact["channel"] == "sms" and contact["summary"] == "I need to talk"
    [asked] = [c for c in peers.calls if c.path == "/internal/desk/access"]
    assert asked.query == {"person_id": person_id, "keyworker_id": "kw-1"}
    async with intake.kit.db.sessionmaker() as session:
        audited = (await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "read_story", AuditEntry.entity_id == person_id))).all()
    assert [(a.actor_kind, a.actor_id) for a in audited] == [("person", "acct-kw-1")]


async def test_another_key_worker_gets_a_404_and_keys_a_403(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    peers.on("GET", "/internal/desk/access", (200, {"allowed": False}))
    person_id = await a_person_who_texted(intake)
    path = f"/api/v1/desk/people/{person_id}/contacts"
    assert (await intake.client.get(path, headers=person("kw-2"))).status_code == 404
    for role in ("partner", "staff", "admin"):
        resp = await intake.client.get(path, headers=key_headers("Lambeth Police", role))
        assert resp.status_code == 403
    coordinator = await intake.client.get(path, headers=person(None, "coordinator"))
    assert coordinator.status_code == 200 and len(coordinator.json()) == 1


async def test_referral_not_answering_refuses_rather_than_shows(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    peers.on("GET", "/internal/desk/access", (503, {}))
    person_id = await a_person_who_texted(intake)
    resp = await intake.client.get(f"/api/v1/desk/people/{person_id}/contacts",
                                   headers=person("kw-1"))
    assert resp.status_code == 404
