"""The desk's rules in referral: who may see a referral in full, and a key worker's steps on
it (contact attempts, notes, closing with an outcome from the list kept as data)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import Actor
from services.common.errors import Conflict, NotFound
from services.common.ids import new_id
from services.referral import repository, timeline
from services.referral.directory import signposting
from services.referral.models import Referral, ReferralNote
from services.referral.referrals import end_assignment
from services.referral.webhooks import Announcer

OUTCOMES_FILE = Path(__file__).parent / "data" / "outcomes.yaml"
ATTEMPT_RESULTS = ("reached", "no_answer", "left_message", "wrong_number")
# A key worker holds a referral from their acceptance until it closes (and may read it after).
HELD = frozenset({"accepted", "contacted", "closed"})
OPEN_HELD = ("accepted", "contacted")


@cache
def outcomes() -> tuple[dict[str, str], ...]:
    data = yaml.safe_load(OUTCOMES_FILE.read_text())
    return tuple({"code": str(o["code"]), "label": str(o["label"])} for o in data["outcomes"])


def outcome_codes() -> frozenset[str]:
    return frozenset(o["code"] for o in outcomes())


def may_see(actor: Actor, referral: Referral) -> bool:
    """Coordinators and admins see every referral; a key worker only those they accepted."""
    if actor.kind != "person":
        return False
    if actor.sees_everyone:
        return True
    return (actor.keyworker_id is not None and referral.keyworker_id == actor.keyworker_id
            and referral.status in HELD)


def may_act(actor: Actor, referral: Referral) -> bool:
    """Only the key worker holding it changes an open referral (coordinators too)."""
    return may_see(actor, referral) and referral.status in OPEN_HELD


async def visible(session: AsyncSession, actor: Actor, reference: str, *,
                  lock: bool = False) -> Referral:
    referral = await repository.get_by_reference(session, reference)
    if referral is not None and lock:
        referral = await repository.get_referral_for_update(session, referral.id)
    if referral is None or not may_see(actor, referral):
        raise NotFound("referral")
    return referral


async def acting(session: AsyncSession, actor: Actor, reference: str) -> Referral:
    """The referral, locked, if the actor may change it; otherwise indistinguishable from
    none."""
    referral = await visible(session, actor, reference, lock=True)
    if not may_act(actor, referral):
        raise NotFound("referral")
    return referral


async def my_people(session: AsyncSession, actor: Actor) -> Sequence[Referral]:
    """Open referrals the actor holds (every open one for coordinators), soonest due first."""
    return await repository.open_held(session, OPEN_HELD, everyone=actor.sees_everyone,
                                      keyworker_id=actor.keyworker_id)


async def earlier(session: AsyncSession, referral: Referral) -> Sequence[Referral]:
    """The person's other referrals, newest first: their story with the service."""
    if not referral.person_id:
        return []
    return await repository.others_of_person(session, referral.person_id, referral.id)


async def record_attempt(session: AsyncSession, announcer: Announcer, referral: Referral,
                         result: str, by: str | None, now: datetime) -> None:
    """One try to reach the person; the first "reached" moves the referral to `contacted`
    (the referrer sees it, their webhook fires)."""
    _open(referral)
    session.add(ReferralNote(id=new_id(), referral_id=referral.id, kind="attempt", text=result,
                             org=by, created_at=now))
    if result == "reached" and timeline.RANK[referral.status] < timeline.RANK["contacted"]:
        await timeline.record_and_announce(session, announcer, referral, "contacted", now, now)


def add_note(session: AsyncSession, referral: Referral, text: str, by: str | None,
             now: datetime) -> None:
    _open(referral)
    session.add(ReferralNote(id=new_id(), referral_id=referral.id, kind="note", text=text,
                             org=by, created_at=now))


async def close(session: AsyncSession, announcer: Announcer, referral: Referral, outcome: str,
                service_id: str | None, actor: Actor, now: datetime) -> None:
    """Close with an outcome (announced); keyperson frees the worker's place. `signposted`
    with a `service_id` names the network service the person was signposted to."""
    if outcome == "signposted" and service_id:
        await signposting.name_on_close(session, referral, service_id, actor, now)
    _open(referral)
    referral.outcome = outcome
    await timeline.record_and_announce(session, announcer, referral, "closed", now, now)
    end_assignment(session, referral, "closed", now)


def _open(referral: Referral) -> None:
    if referral.status == "closed":
        raise Conflict("This referral is closed.", slug="referral-closed")


def notes_view(notes: Sequence[ReferralNote], kind: str) -> list[dict[str, Any]]:
    return [{"text": n.text, "at": n.created_at} for n in notes if n.kind == kind]


async def holds_person(session: AsyncSession, keyworker_id: str, person_id: str) -> bool:
    """A key worker may see a person's story once they accepted a referral of theirs."""
    if not keyworker_id or not person_id:
        return False
    return await repository.holds_person(session, keyworker_id, person_id, HELD)


PLAN_FIELDS = ("what_matters", "strengths", "goals", "who_helps", "next_review")


def save_plan(session: AsyncSession, referral: Referral, plan: dict[str, str], by: str | None,
              now: datetime) -> None:
    """A new version of the support plan agreed with the person (earlier ones are kept)."""
    _open(referral)
    session.add(ReferralNote(id=new_id(), referral_id=referral.id, kind="support_plan",
                             text=json.dumps({k: plan.get(k, "") for k in PLAN_FIELDS}),
                             org=by, created_at=now))


def plan_view(notes: Sequence[ReferralNote]) -> dict[str, Any] | None:
    """The current support plan with its version number, or None before the first."""
    versions = [n for n in notes if n.kind == "support_plan"]
    if not versions:
        return None
    latest = versions[-1]
    return {"version": len(versions), "at": latest.created_at, **json.loads(latest.text)}
