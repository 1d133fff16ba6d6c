"""Keyperson's own parts, built once in its lifespan and kept in `kit.own`, and the typed
dependency that hands them to a route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.common.deps import kit_of, own_of
from services.common.kit import Kit
from services.keyperson.areas import AreaBook


@dataclass
class Keyperson:
    """What keyperson builds once: the localities and teams routing can give a referral,
    read from the routing rules in force and read again when the file changes."""

    areas: AreaBook


def build() -> Keyperson:
    """The parts, from the settings in the environment (`LIVEWELL_ROUTING_RULES`)."""
    return Keyperson(areas=AreaBook())


def of(kit: Kit) -> Keyperson:
    return own_of(kit, Keyperson)


async def get_keyperson(request: Request) -> Keyperson:
    return of(kit_of(request))


KeypersonDep = Annotated[Keyperson, Depends(get_keyperson)]
