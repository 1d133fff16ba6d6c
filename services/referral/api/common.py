"""Helpers the route modules share: the caller's organisation and the partner's view."""

from __future__ import annotations

from collections.abc import Sequence

from services.common.context import Actor
from services.common.errors import ProblemError
from services.referral.models import Referral, ReferralEvent
from services.referral.schemas import ReferralRead, TimelineEntry

# Timeline events a referrer sees: the status steps and their own additions.
VISIBLE_EVENTS = frozenset({"received", "routed", "assigned", "declined", "reassigned",
                            "accepted", "contacted", "closed", "withdrawn", "information_added"})


def org_of(actor: Actor) -> str:
    """The organisation of the key; a key without one cannot hold referrals."""
    if not actor.org:
        raise ProblemError(403, "forbidden", "Forbidden", "This key has no organisation.")
    return actor.org


def partner_view(referral: Referral, events: Sequence[ReferralEvent]) -> ReferralRead:
    """Status and times only: no subject, no reason, no notes, no key worker."""
    return ReferralRead(
        id=referral.id, reference=referral.reference,
        external_reference=referral.external_reference, status=referral.status,
        outcome=referral.outcome, urgency=referral.urgency,
        respond_by=referral.respond_by, locality=referral.locality, team=referral.team,
        created_at=referral.created_at, updated_at=referral.updated_at,
        accepted_at=referral.accepted_at,
        timeline=[TimelineEntry(event=e.event, status=e.status, at=e.at)
                  for e in events if e.event in VISIBLE_EVENTS])
