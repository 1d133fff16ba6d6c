"""Intake's part of the monthly figures: contacts by channel, the people they came from, who
was first known this month, and crisis calls (from intake's own tables only).

The contact table holds people's contacts only: key workers' ACCEPT/DECLINE replies go to
notify and STOP/START change a preference, neither is a contact; a Twilio or provider retry of
a call, text or email is the same (channel, external id) and so the same row.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.figures import Month
from services.common.figures_api import figures_router
from services.intake.repository import figures as figures_repo

CHANNELS = ("voice", "sms", "email", "web")
ANSWER_WITHIN = timedelta(seconds=60)


def anonymous_key(address: str | None, contact_id: str) -> str:
    """A contact no person record holds (a caller who hung up at the menu): counted once per
    number or address, which never leaves intake except as this digest."""
    return "anon:" + hashlib.sha256((address or contact_id).encode()).hexdigest()[:24]


async def _survivors(session: AsyncSession) -> dict[str, str]:
    """Merged people → the person they were merged into (followed to the end of the chain)."""
    pairs = await figures_repo.merged_pairs(session)
    out: dict[str, str] = {}
    for start in pairs:
        seen, at = {start}, pairs[start]
        while at in pairs and at not in seen:
            seen.add(at)
            at = pairs[at]
        out[start] = at
    return out


async def contacts_by_channel(session: AsyncSession, month: Month) -> dict[str, int]:
    counted = await figures_repo.contacts_by_channel(session, month.start, month.end)
    return {channel: int(counted.get(channel, 0)) for channel in CHANNELS}


async def people(session: AsyncSession, month: Month,
                 survivors: dict[str, str]) -> tuple[set[str], set[str]]:
    """(everyone with a contact in the month, everyone first known in it: people first
    recorded then, in touch or not, and senders without a person never in touch before). A
    contact without a person is matched by its sender to a person known by that number or
    address."""
    found: set[str] = set()
    anonymous: dict[str, str] = {}  # key → sender
    for person_id, address, contact_id in await figures_repo.senders(session, month.start,
                                                                     month.end):
        if person_id is not None:
            found.add(survivors.get(str(person_id), str(person_id)))
            continue
        key = anonymous_key(address, contact_id)
        found.add(key)
        if address:
            anonymous[key] = address
    # Senders without a person who were in touch before the month are not new.
    earlier: set[str | None] = set()
    if anonymous:
        earlier = await figures_repo.senders_seen_before(session, month.start, month.end)
    new_anonymous = {key for key in found if key.startswith("anon:")
                     and anonymous.get(key) not in earlier}
    return found, await first_known(session, month, survivors) | new_anonymous


async def first_known(session: AsyncSession, month: Month,
                      survivors: dict[str, str]) -> set[str]:
    """People whose first record (theirs or of anyone merged into them) is in the month: all
    of them, not only those with a contact, since a person referred this month and never in
    touch is new too (the composition keeps those some service saw)."""
    first = await figures_repo.first_recorded_between(session, month.start, month.end)
    return {survivors.get(p, p) for p in first}


async def crisis_calls(session: AsyncSession, month: Month) -> dict[str, int]:
    """Calls that took the crisis route (option 1, or no usable input twice), and how many a
    person answered within 60 s of the call's start."""
    rows = await figures_repo.crisis_call_times(session, month.start, month.end)
    quick = sum(1 for started, answered in rows
                if answered is not None and answered - started <= ANSWER_WITHIN)
    return {"total": len(rows), "to_a_human_within_60s": quick}


async def monthly(session: AsyncSession, month: Month) -> dict[str, Any]:
    survivors = await _survivors(session)
    seen, new = await people(session, month, survivors)
    return {"contacts": await contacts_by_channel(session, month),
            "crisis_calls": await crisis_calls(session, month),
            "people": sorted(seen), "people_first_known": sorted(new)}


router = figures_router(monthly)
