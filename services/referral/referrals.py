"""Creating referrals (partner, FHIR, self) and the partner's own changes to them."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import Clock
from services.common.context import Actor
from services.common.errors import Conflict, NotFound, ProblemError
from services.common.ids import new_id, new_reference
from services.common.outbox import enqueue, priority_for
from services.referral import repository, sla, timeline
from services.referral.models import IdempotentRequest, OutboxMessage, Referral, ReferralNote
from services.referral.routing import Route, RoutingInput, RuleSet, decide
from services.referral.schemas import ReferralCreate, ReferralCreated, SelfReferralCreate
from services.referral.webhooks import Announcer

log = logging.getLogger(__name__)

RESOLVE_HANDLER = "person_resolved"
SUBJECT_FIELDS = ("given_name", "family_name", "date_of_birth", "nhs_number", "phone", "email",
                  "postcode")


@dataclass(frozen=True, slots=True)
class Submitted:
    """The answer to a partner's POST: the body, and whether it created a referral."""

    referral_id: str
    body: dict[str, Any]
    created: bool


async def visible(session: AsyncSession, actor: Actor, referral_id: str) -> Referral:
    """The referral if the caller may see it (their organisation's, or any for staff);
    someone else's is indistinguishable from none."""
    referral = await repository.get_visible(session, referral_id, actor.org, actor.is_staff)
    if referral is None or (not actor.is_staff and actor.org is None):
        raise NotFound("referral")
    return referral


def body_hash(body: ReferralCreate) -> str:
    """A fingerprint of the request's meaning (not of its whitespace or key order)."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def created_body(referral: Referral) -> dict[str, Any]:
    """The contract's answer to a new referral."""
    return ReferralCreated.model_validate(referral, from_attributes=True).model_dump(mode="json")


def routing_input(body: ReferralCreate) -> RoutingInput:
    return RoutingInput(requested_urgency=body.urgency, risk=body.risk.model_dump(),
                        needs=list(body.needs), postcode=body.subject.postcode)


def _new_referral(*, route: Route, now: datetime, source: str, reference: str,
                  **fields: Any) -> Referral:
    return Referral(
        id=new_id(), reference=reference, source=source, urgency=route.urgency,
        respond_by=route.respond_by, sla_alert_at=route.sla_alert_at, locality=route.locality,
        team=route.team, rules_version=route.rules_version, route_reasons=route.reasons,
        status="received", status_at=now, created_at=now, updated_at=now, **fields)


async def submit_partner_referral(
    session: AsyncSession, ruleset: RuleSet, announcer: Announcer, body: ReferralCreate, *,
    org: str, idempotency_key: str | None, now: datetime, source: str = "partner",
) -> Submitted:
    """Create a partner's referral once per `Idempotency-Key`; a repeat gets the first answer."""
    fingerprint = body_hash(body)
    route = decide(ruleset, routing_input(body), now)
    subject = body.subject.model_dump(mode="json", exclude_none=True)
    referral = _new_referral(
        route=route, now=now, source=source, reference=new_reference(), org=org,
        external_reference=body.external_reference, subject=subject, reason=body.reason,
        needs=list(body.needs), risk=body.risk.model_dump(), requested_urgency=body.urgency,
        consent=body.consent.model_dump() if body.consent else None,
        referrer=body.referrer.model_dump(mode="json") if body.referrer else None)
    answer = created_body(referral)
    if idempotency_key and not await repository.claim_idempotency_key(session, {
            "org": org, "key": idempotency_key, "body_hash": fingerprint,
            "referral_id": referral.id, "response": answer, "created_at": now}):
        earlier = await repository.get_idempotent(session, org, idempotency_key)
        if earlier is None:  # the twin that held the key rolled back: the client retries
            raise Conflict("A request with this Idempotency-Key is in progress; retry it.")
        return _replay(earlier, fingerprint)
    session.add(referral)
    await _start(session, announcer, referral, now)
    _request_person(session, referral, now)
    return Submitted(referral.id, answer, created=True)


def _replay(earlier: IdempotentRequest, fingerprint: str) -> Submitted:
    if earlier.body_hash != fingerprint:
        raise ProblemError(
            422, "idempotency-key-reused", "Idempotency-Key reused",
            "This Idempotency-Key was already used with a different request body. Send the "
            "same body to get the first answer again, or use a new key for a new referral.",
            [{"loc": ["header", "Idempotency-Key"], "msg": "used before with a different body"}])
    return Submitted(earlier.referral_id, earlier.response, created=False)


async def _start(session: AsyncSession, announcer: Announcer, referral: Referral,
                 now: datetime) -> None:
    """Timeline (announced), SLA timers and (for an emergency) the crisis alert of a new
    referral."""
    await timeline.record_and_announce(session, announcer, referral, "received", now, now)
    sla.schedule(session, referral, now)
    if referral.urgency == "emergency" and referral.org is not None:
        # Intake alerts for its own crisis contacts as they arrive; partners' are alerted here.
        sla.alert(session, referral, "crisis", now)


def _request_person(session: AsyncSession, referral: Referral, now: datetime) -> None:
    """Step 2 of the spine: ask intake to resolve the person; the reply routes the referral."""
    subject = referral.subject or {}
    enqueue(session, OutboxMessage, key=f"resolve:{referral.id}", target="intake",
            path="/internal/people/resolve", now=now, reply_handler=RESOLVE_HANDLER,
            priority=priority_for(referral.urgency),  # the payload carries no urgency
            payload={"referral_id": referral.id, "reference": referral.reference,
                     "subject": {k: subject.get(k) for k in SUBJECT_FIELDS}})


def request_assignment(session: AsyncSession, referral: Referral, now: datetime) -> None:
    """Step 3 of the spine: ask keyperson for a key worker."""
    subject = referral.subject or {}
    language = str(subject.get("preferred_language") or "en").split("-")[0].lower()
    skills = [] if language == "en" else [f"lang:{language}"]
    enqueue(session, OutboxMessage, key=f"assign:{referral.id}", target="keyperson",
            path="/internal/assignments", now=now,
            payload={"referral_id": referral.id, "reference": referral.reference,
                     "person_id": referral.person_id, "locality": referral.locality,
                     "team": referral.team, "urgency": referral.urgency,
                     "respond_by": referral.respond_by.isoformat(), "skills": skills})


async def submit_self_referral(session: AsyncSession, ruleset: RuleSet, announcer: Announcer,
                               body: SelfReferralCreate, now: datetime) -> Referral:
    """Intake's self-referral: same routing, then straight to assignment (step 3)."""
    existing = await repository.get_by_reference(session, body.reference)
    if existing is not None:
        return existing  # intake retried with the same reference
    known_needs = [n for n in body.needs if n in _KNOWN_NEEDS]
    route = decide(ruleset, RoutingInput(body.urgency, body.risk, known_needs, body.postcode),
                   now)
    unknown = sorted(set(body.needs) - set(known_needs))
    if unknown:
        route.reasons.append(f"needs not in the rules were not used: {', '.join(unknown)}")
    referral = _new_referral(
        route=route, now=now, source=body.source, reference=body.reference, org=None,
        subject={"postcode": body.postcode} if body.postcode else None, reason=body.reason,
        needs=known_needs, risk=dict(body.risk), requested_urgency=body.urgency,
        person_id=body.person_id, contact_id=body.contact_id)
    session.add(referral)
    await session.flush()
    await _start(session, announcer, referral, now)
    await timeline.record_and_announce(session, announcer, referral, "routed", now, now)
    request_assignment(session, referral, now)
    return referral


async def person_resolved(session: AsyncSession, announcer: Announcer, clock: Clock,
                          referral_id: str, answer: Any) -> None:
    """Intake's answer to step 2: keep the person's id, then route (announced) and ask for a
    key worker (step 3)."""
    referral = await repository.get_referral_for_update(session, referral_id)
    if referral is None:
        return
    person_id = answer.get("person_id") if isinstance(answer, dict) else None
    if isinstance(person_id, str) and 0 < len(person_id) <= 64:
        referral.person_id = person_id
    else:  # still route: a key worker can be found without the person's record
        log.warning("intake answered without a usable person id",
                    extra={"event": "referral.person_unresolved", "referral_id": referral.id})
    if referral.status == "closed":
        return  # withdrawn while intake was answering: nobody to assign
    now = clock.now()
    if await timeline.record_and_announce(session, announcer, referral, "routed", now, now):
        request_assignment(session, referral, now)
    log.info("referral routed", extra={"event": "referral.routed", "referral_id": referral.id,
                                       "person_id": referral.person_id})


_KNOWN_NEEDS = frozenset({"housing", "debt", "benefits", "employment", "isolation",
                          "substance_use", "physical_health"})


async def add_information(session: AsyncSession, referral: Referral, text: str,
                          org: str | None, now: datetime) -> ReferralNote:
    """Further information from the referrer, on an open referral."""
    if referral.status == "closed":
        raise Conflict("This referral is closed; it cannot take more information.",
                       slug="referral-closed")
    note = ReferralNote(id=new_id(), referral_id=referral.id, kind="information", text=text,
                        org=org, created_at=now)
    session.add(note)
    timeline.record(session, referral, "information_added", now, now)  # not a status: untold
    return note


async def withdraw(session: AsyncSession, announcer: Announcer, referral: Referral, reason: str,
                   org: str | None, now: datetime) -> ReferralNote:
    """The referrer withdraws: the referral closes with outcome `withdrawn` and the reason."""
    if referral.status == "closed":
        raise Conflict("This referral is already closed.", slug="referral-closed")
    was_assigning = timeline.RANK[referral.status] >= timeline.RANK["routed"]
    note = ReferralNote(id=new_id(), referral_id=referral.id, kind="withdrawal", text=reason,
                        org=org, created_at=now)
    session.add(note)
    referral.outcome = "withdrawn"
    await timeline.record_and_announce(session, announcer, referral, "withdrawn", now, now,
                                       status="closed")
    if was_assigning:
        end_assignment(session, referral, "withdrawn", now)
    return note


async def record_staff_step(session: AsyncSession, announcer: Announcer, referral: Referral,
                            event: str, outcome: str | None, at: datetime,
                            now: datetime) -> None:
    """Staff record that the person was contacted, or close the referral with an outcome
    (announced); closing one that was being assigned tells keyperson it is over."""
    closing = event == "closed" and referral.status != "closed"
    was_assigning = timeline.RANK[referral.status] >= timeline.RANK["routed"]
    if closing:
        referral.outcome = outcome or "closed"
    await timeline.record_and_announce(session, announcer, referral, event, at, now)
    if closing and was_assigning:
        end_assignment(session, referral, "closed", now)


def end_assignment(session: AsyncSession, referral: Referral, how: str, now: datetime) -> None:
    """Tell keyperson the referral is over (`closed` or `withdrawn`): the worker's place is
    freed and the key-person link ends."""
    enqueue(session, OutboxMessage, key=f"{how}:{referral.id}", target="keyperson",
            path=f"/internal/assignments/{referral.id}/{how}", now=now,
            payload={"referral_id": referral.id, "reference": referral.reference, "reason": how})
