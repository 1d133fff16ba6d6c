"""People search for coordinators and admins: by name prefix, normalised phone, email, NHS
number, date of birth or reference; every search audited (by kind, never the words)."""

from __future__ import annotations

import random
import string
from datetime import date, timedelta

from sqlalchemy import select

from services.common.ids import new_id
from services.intake.models import AuditEntry, Contact, Person, PersonIdentifier, ReferralLink
from tests.board.people import COORDINATOR, refused_everyone_but_coordinators, signed_in
from tests.intake.fakes import mobile
from tests.support.service import ServiceHarness

SEARCH = "/api/v1/desk/people/search"
NHS = "9434765919"  # a valid NHS number (Modulus 11)


def family() -> str:
    return "Zq" + "".join(random.choices(string.ascii_lowercase, k=8))


async def a_person(intake: ServiceHarness, family_name: str, phone: str, email: str,
                   nhs: str | None = None, reference: str | None = None) -> str:
    now = intake.kit.clock.now()
    pid = new_id()
    async with intake.kit.db.sessionmaker() as session, session.begin():
        session.add(Person(id=pid, given_name="Robin", family_name=family_name,
                           date_of_birth=date(1988, 4, 23), postcode=None, merged_into=None,
                           created_at=now, updated_at=now))
        await session.flush()
        for kind, value in (("phone", phone), ("email", email), ("nhs_number", nhs)):
            if value:
                session.add(PersonIdentifier(person_id=pid, kind=kind, value=value,
                                             created_at=now))
        if reference:
            session.add(Contact(id=new_id(), channel="sms", external_id=f"SM{new_id()}",
                                person_id=pid, reference=reference, crisis=False,
                                created_at=now, updated_at=now))
    return pid


async def found(intake: ServiceHarness, by: str, q: str) -> list[str]:
    resp = await intake.client.get(SEARCH, params={"by": by, "q": q},
                                   headers=signed_in("coordinator", COORDINATOR))
    assert resp.status_code == 200, resp.text
    return [p["id"] for p in resp.json()["people"]]


async def test_a_person_is_found_every_way_and_each_search_is_audited(
    intake: ServiceHarness,
) -> None:
    name, phone = family(), mobile()
    email = f"{name.lower()}@example.org"
    pid = await a_person(intake, name, phone, email)
    national = "0" + phone[3:6] + " " + phone[6:]  # 07400 123456 as people say it
    assert pid in await found(intake, "phone", national)
    assert pid in await found(intake, "name", name[:5].lower())
    assert pid in await found(intake, "name", f"rob {name[:4]}")
    assert pid not in await found(intake, "name", f"sam {name[:4]}")
    assert pid in await found(intake, "email", email.upper())
    assert pid in await found(intake, "date_of_birth", "23/04/1988")
    async with intake.kit.db.sessionmaker() as session:
        audited = (await session.scalars(select(AuditEntry).where(
            AuditEntry.actor_id == COORDINATOR, AuditEntry.action.like("search%")))).all()
    actions = {a.action for a in audited}
    assert {"search:phone", "search:name", "search:email", "search:date_of_birth",
            "search_result"} <= actions
    assert all(national not in a.entity_id and name not in a.entity_id for a in audited)


async def test_nhs_number_and_reference(intake: ServiceHarness) -> None:
    reference = "LW-" + "".join(random.choices("ABCDEFGHJK", k=4)) + "-" + "".join(
        random.choices("0123456789", k=4))
    pid = await a_person(intake, family(), mobile(), f"{family()}@example.org",
                         nhs=None, reference=reference)
    assert pid in await found(intake, "reference", reference.lower())
    resp = await intake.client.get(SEARCH, params={"by": "nhs_number", "q": "123 456 7890"},
                                   headers=signed_in("admin"))
    assert resp.status_code == 200  # unusual but well formed: searched and flagged
    assert resp.json()["notes"] and resp.json()["searched"] == "1234567890"


def a_reference() -> str:
    return "LW-" + "".join(random.choices("ABCDEFGHJK", k=4)) + "-" + "".join(
        random.choices("0123456789", k=4))


async def test_each_person_found_carries_their_references_newest_first(
    intake: ServiceHarness,
) -> None:
    """The desk links a person found to their newest referral's page."""
    name = family()
    pid = await a_person(intake, name, mobile(), f"{name}@example.org")
    older, newer = a_reference(), a_reference()
    now = intake.kit.clock.now()
    async with intake.kit.db.sessionmaker() as session, session.begin():
        for reference, opened in ((older, now - timedelta(days=30)), (newer, now)):
            session.add(ReferralLink(reference=reference, referral_id=new_id(), person_id=pid,
                                     source="partner", urgency="routine", respond_by=None,
                                     opened_at=opened))
    alone = await a_person(intake, name, mobile(), f"{name}.2@example.org")
    resp = await intake.client.get(SEARCH, params={"by": "name", "q": name},
                                   headers=signed_in("coordinator", COORDINATOR))
    assert resp.status_code == 200, resp.text
    refs = {p["id"]: p["references"] for p in resp.json()["people"]}
    assert refs == {pid: [newer, older], alone: []}


async def test_bad_input_is_a_422_naming_the_field(intake: ServiceHarness) -> None:
    for by, q in (("phone", "not a number"), ("date_of_birth", "31/02/1990"),
                  ("nhs_number", "12"), ("reference", "ABC"), ("email", "nobody")):
        resp = await intake.client.get(SEARCH, params={"by": by, "q": q},
                                       headers=signed_in("coordinator"))
        assert resp.status_code == 422, (by, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert '"q"' in resp.text
    resp = await intake.client.get(SEARCH, params={"by": "shoe size", "q": "9"},
                                   headers=signed_in("coordinator"))
    assert resp.status_code == 422 and "by" in resp.text


async def test_key_workers_and_keys_get_403(intake: ServiceHarness) -> None:
    for headers in refused_everyone_but_coordinators():
        resp = await intake.client.get(SEARCH, params={"by": "name", "q": "rob"},
                                       headers=headers)
        assert resp.status_code == 403
