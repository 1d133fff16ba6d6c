"""The person index: exact identifiers link, weaker ones are flagged, merges are explicit."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from services.intake.models import AuditEntry, Contact
from services.intake.people import Subject, normal_phone, valid_nhs_number
from tests.intake.conftest import post_twilio
from tests.intake.fakes import mobile, sid
from tests.support.service import ServiceHarness, key_headers

STAFF = key_headers("Living Well Hub", "staff")


def nhs_number() -> str:
    """A random NHS number that passes Modulus 11."""
    while True:
        digits = [int(c) for c in f"{uuid.uuid4().int % 10**9:09d}"]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10 and len(set(digits)) > 1:
            return "".join(map(str, digits)) + str(check)


@pytest.mark.parametrize(("raw", "expected"), [
    ("9434765919", "9434765919"), ("943 476 5919", "9434765919"), ("943-476-5919", "9434765919"),
    ("9434765918", None), ("1111111111", None), ("0000000000", None), ("943476591", None),
    ("94347659190", None), ("abcdefghij", None), (None, None),
])
def test_nhs_numbers_need_modulus_11_and_not_all_one_digit(raw: str | None,
                                                            expected: str | None) -> None:
    assert valid_nhs_number(raw) == expected


def test_phones_are_e164_and_a_withheld_number_is_none() -> None:
    assert normal_phone("07400 123456") == "+447400123456"
    assert normal_phone("anonymous") is None and normal_phone("+266696687") is None


def test_an_invalid_nhs_number_is_not_an_identifier() -> None:
    ids = Subject(nhs_number="1111111111", email="A@Example.org").identifiers()
    assert ids == {"email": "a@example.org"}


async def resolve(intake: ServiceHarness, **subject: Any) -> dict[str, Any]:
    body = {"referral_id": str(uuid.uuid4()), "reference": "LW-TEST-" + uuid.uuid4().hex[:4],
            "subject": subject}
    resp = await intake.client.post("/internal/people/resolve", json=body)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


async def test_the_same_nhs_number_links_to_the_same_person(intake: ServiceHarness) -> None:
    nhs = nhs_number()
    first = await resolve(intake, given_name="Ada", family_name="Lovelace", nhs_number=nhs)
    again = await resolve(intake, nhs_number=nhs, phone=mobile())
    assert first["match"] == "new" and again == {"person_id": first["person_id"],
                                                  "match": "exact"}


async def test_a_caller_whose_number_a_referral_gave_is_recognised(
    intake: ServiceHarness,
) -> None:
    phone = mobile()
    person = await resolve(intake, phone=phone.replace("+44", "0"), family_name="Smith")
    call_sid = sid("CA")
    resp = await post_twilio(intake, "/twilio/voice", {"CallSid": call_sid, "From": phone})
    assert "press 4" in resp.text  # a recognised caller may ask for their key worker
    async with intake.kit.db.sessionmaker() as session:
        contact = await session.scalar(select(Contact).where(Contact.external_id == call_sid))
    assert contact is not None and contact.person_id == person["person_id"]


async def test_name_and_birth_date_alone_are_only_a_possible_match(
    intake: ServiceHarness,
) -> None:
    family = f"Okafor-{uuid.uuid4().hex[:6]}"
    first = await resolve(intake, given_name="Chi", family_name=family,
                          date_of_birth="1990-04-01", phone=mobile())
    second = await resolve(intake, given_name="chi", family_name=family.upper(),
                           date_of_birth="1990-04-01", email=f"{uuid.uuid4().hex}@x.example")
    assert second["match"] == "possible" and second["person_id"] != first["person_id"]
    matches = (await intake.client.get("/api/v1/people/possible-matches", headers=STAFF)).json()
    [match] = [m for m in matches if m["person_id"] == second["person_id"]]
    assert match["candidate_id"] == first["person_id"]
    assert match["reasons"] == ["same_name_and_date_of_birth"]


async def test_a_contradicting_nhs_number_is_flagged_not_linked(intake: ServiceHarness) -> None:
    phone = mobile()
    first = await resolve(intake, phone=phone, nhs_number=nhs_number())
    other = await resolve(intake, phone=phone, nhs_number=nhs_number())
    assert other["match"] == "possible" and other["person_id"] != first["person_id"]


async def test_staff_merge_two_people_explicitly_and_it_is_audited(
    intake: ServiceHarness,
) -> None:
    family = f"Nowak-{uuid.uuid4().hex[:6]}"
    phone, email = mobile(), f"{uuid.uuid4().hex}@x.example"
    a = await resolve(intake, given_name="Ola", family_name=family, date_of_birth="1985-02-03",
                      phone=phone)
    b = await resolve(intake, given_name="Ola", family_name=family, date_of_birth="1985-02-03",
                      email=email)
    assert b["match"] == "possible"
    resp = await intake.client.post(f"/api/v1/people/{a['person_id']}/merge", headers=STAFF,
                                    json={"merge_person_id": b["person_id"]})
    assert resp.status_code == 200, resp.text
    kinds = {i["kind"]: i["value"] for i in resp.json()["identifiers"]}
    assert kinds["phone"] == phone and kinds["email"] == email
    merged = (await intake.client.get(f"/api/v1/people/{b['person_id']}", headers=STAFF)).json()
    assert merged["merged_into"] == a["person_id"]
    assert (await resolve(intake, email=email))["person_id"] == a["person_id"]
    matches = (await intake.client.get("/api/v1/people/possible-matches", headers=STAFF)).json()
    assert all(m["person_id"] != b["person_id"] for m in matches)
    async with intake.kit.db.sessionmaker() as session:
        actions = set(await session.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_id.in_([a["person_id"], b["person_id"]]))))
    assert {"merge", "merged_into"} <= actions
    again = await intake.client.post(f"/api/v1/people/{a['person_id']}/merge", headers=STAFF,
                                     json={"merge_person_id": b["person_id"]})
    assert again.status_code == 409


async def test_people_are_for_staff_keys_only(intake: ServiceHarness) -> None:
    person = await resolve(intake, phone=mobile())
    resp = await intake.client.get(f"/api/v1/people/{person['person_id']}",
                                   headers=key_headers("Police"))
    assert resp.status_code == 403


async def test_a_repeated_resolve_of_one_referral_gives_one_answer(
    intake: ServiceHarness,
) -> None:
    body = {"referral_id": str(uuid.uuid4()), "reference": "LW-ABCD-" + uuid.uuid4().hex[:4],
            "subject": {"family_name": "Doe", "postcode": "SW2 1AA"}}
    answers = [await intake.client.post("/internal/people/resolve", json=body,
                                        headers={"Idempotency-Key": "k"}) for _ in range(2)]
    assert answers[0].json() == answers[1].json()


async def test_concurrent_first_contacts_from_one_number_make_one_person(
    intake: ServiceHarness,
) -> None:
    phone = mobile()
    forms = [{"MessageSid": sid("SM"), "From": phone, "Body": f"hello {i}"} for i in range(4)]
    await asyncio.gather(*(post_twilio(intake, "/twilio/sms", f) for f in forms))
    async with intake.kit.db.sessionmaker() as session:
        people = set(await session.scalars(select(Contact.person_id)
                                           .where(Contact.from_address == phone)))
    assert len(people) == 1 and None not in people
