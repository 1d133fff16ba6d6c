"""Possible matches for coordinators and admins: both people side by side (each shown person
audited), merged into the record to keep or dismissed, once; a bad choice is a 422 naming the
field and changes nothing; key workers and keys get 403."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from services.intake.models import AuditEntry, Person, PossibleMatch
from tests.board.people import COORDINATOR, refused_everyone_but_coordinators, signed_in
from tests.intake.fakes import mobile
from tests.intake.test_people import resolve
from tests.support.service import ServiceHarness

MATCHES = "/api/v1/desk/matches"
COORD = signed_in("coordinator", COORDINATOR)


async def flagged(intake: ServiceHarness) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two people with the same name and date of birth: a possible match."""
    family = f"Mensah-{uuid.uuid4().hex[:6]}"
    first = await resolve(intake, given_name="Kofi", family_name=family,
                          date_of_birth="1979-06-05", phone=mobile())
    second = await resolve(intake, given_name="Kofi", family_name=family,
                           date_of_birth="1979-06-05", email=f"{uuid.uuid4().hex}@x.example")
    assert second["match"] == "possible"
    resp = await intake.client.get(MATCHES, params={"limit": 200}, headers=COORD)
    assert resp.status_code == 200, resp.text
    [match] = [m for m in resp.json()["matches"]
               if m["person"]["id"] == second["person_id"]]
    return match, first


async def test_both_people_are_shown_and_each_read_is_audited(intake: ServiceHarness) -> None:
    match, first = await flagged(intake)
    assert match["candidate"]["id"] == first["person_id"]
    assert match["reasons"] == ["same_name_and_date_of_birth"]
    assert match["candidate"]["identifiers"]["phone"] and match["person"]["identifiers"]["email"]
    async with intake.kit.db.sessionmaker() as session:
        read = set(await session.scalars(select(AuditEntry.entity_id).where(
            AuditEntry.action == "match_read", AuditEntry.actor_id == COORDINATOR)))
    assert {match["person"]["id"], match["candidate"]["id"]} <= read


async def test_a_coordinator_merges_into_the_record_to_keep(intake: ServiceHarness) -> None:
    match, first = await flagged(intake)
    keep, other = match["candidate"]["id"], match["person"]["id"]
    resp = await intake.client.post(f"{MATCHES}/{match['id']}/merge", json={"keep": keep},
                                    headers=COORD)
    assert resp.status_code == 200, resp.text
    async with intake.kit.db.sessionmaker() as session:
        gone = await session.get(Person, other)
        settled = await session.get(PossibleMatch, match["id"])
        actions = {(a.action, a.entity_id, a.actor_id) for a in await session.scalars(
            select(AuditEntry).where(AuditEntry.entity_id.in_([keep, other])))}
    assert gone is not None and gone.merged_into == keep
    assert settled is not None and settled.status == "merged"
    assert {("merge", keep, COORDINATOR), ("merged_into", other, COORDINATOR)} <= actions
    assert (await resolve(intake, email=match["person"]["identifiers"]["email"][0]))[
        "person_id"] == keep
    listed = (await intake.client.get(MATCHES, params={"limit": 200}, headers=COORD)).json()
    assert all(m["id"] != match["id"] for m in listed["matches"])
    again = await intake.client.post(f"{MATCHES}/{match['id']}/dismiss", headers=COORD)
    assert again.status_code == 409


async def test_dismissed_once_and_bad_choices_change_nothing(intake: ServiceHarness) -> None:
    match, _ = await flagged(intake)
    for body in ({}, {"keep": ""}, {"keep": "someone-else"}, {"keep": match["person"]["id"],
                                                              "also": 1}):
        resp = await intake.client.post(f"{MATCHES}/{match['id']}/merge", json=body,
                                        headers=COORD)
        assert resp.status_code == 422, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert ("also" if "also" in body else "keep") in resp.text
    async with intake.kit.db.sessionmaker() as session:
        still = await session.get(PossibleMatch, match["id"])
        person = await session.get(Person, match["person"]["id"])
    assert still is not None and still.status == "open"
    assert person is not None and person.merged_into is None
    assert (await intake.client.post(f"{MATCHES}/nope/dismiss",
                                     headers=COORD)).status_code == 404
    resp = await intake.client.post(f"{MATCHES}/{match['id']}/dismiss",
                                    headers=signed_in("admin"))
    assert resp.status_code == 200 and resp.json()["status"] == "dismissed"
    again = await intake.client.post(f"{MATCHES}/{match['id']}/merge",
                                     json={"keep": match["person"]["id"]}, headers=COORD)
    assert again.status_code == 409
    async with intake.kit.db.sessionmaker() as session:
        dismissed = set(await session.scalars(select(AuditEntry.actor_id).where(
            AuditEntry.action == "dismiss_match",
            AuditEntry.entity_id == match["person"]["id"])))
    assert dismissed == {"acct-admin"}


async def test_key_workers_and_keys_get_403(intake: ServiceHarness) -> None:
    match, _ = await flagged(intake)
    for headers in refused_everyone_but_coordinators():
        assert (await intake.client.get(MATCHES, headers=headers)).status_code == 403
        assert (await intake.client.post(f"{MATCHES}/{match['id']}/dismiss",
                                         headers=headers)).status_code == 403
        assert (await intake.client.post(f"{MATCHES}/{match['id']}/merge",
                                         json={"keep": match["person"]["id"]},
                                         headers=headers)).status_code == 403
