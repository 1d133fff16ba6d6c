"""Referral's own parts, built once in its lifespan and kept in `kit.own`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from services.common.deps import kit_of, own_of
from services.common.kit import Kit
from services.common.settings import Settings
from services.referral.rules import RulesStore
from services.referral.webhooks import AiohttpPoster, Announcer, WebhookPoster, close_poster


@dataclass
class Referral:
    """The rules in force, who hears of status changes, and how deliveries are sent.

    `poster` may be swapped for a fake by tests (the relay reads it at each delivery)."""

    rules: RulesStore
    announcer: Announcer
    poster: WebhookPoster


def build(settings: Settings, rules_path: Path) -> Referral:
    """The parts of one referral service; refuses (raises) on a broken rules file."""
    return Referral(rules=RulesStore(rules_path), announcer=Announcer(),
                    poster=AiohttpPoster(allow_loopback=settings.webhook_allow_loopback))


async def close(own: Referral) -> None:
    """Release what the parts hold at shutdown (the delivery session)."""
    await close_poster(own.poster)


def of(kit: Kit) -> Referral:
    return own_of(kit, Referral)


async def get_referral(request: Request) -> Referral:
    return of(kit_of(request))


ReferralDep = Annotated[Referral, Depends(get_referral)]
