"""Typed FastAPI dependencies every service uses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from services.common.clock import Clock
from services.common.context import (
    H_ACTOR_KIND,
    H_KEY_ID,
    H_KEYWORKER_ID,
    H_ORG,
    H_PERSON_ID,
    H_PERSON_ROLE,
    H_ROLE,
    Actor,
    ActorKind,
    PersonRole,
    Role,
)
from services.common.errors import ProblemError
from services.common.http import ServiceClient
from services.common.kit import Kit
from services.common.settings import Settings

T = TypeVar("T")


def kit_of(request: Request) -> Kit:
    return cast(Kit, request.app.state.kit)


def parts_of(app: Starlette, kind: type[T]) -> T:
    """The parts a web face with no kit (the desk, the site) keeps on its app
    (`app.state.parts`), as the type its `deps.py` declares: checked, no cast."""
    parts = getattr(app.state, "parts", None)
    if not isinstance(parts, kind):
        raise RuntimeError(f"the app's parts are not {kind.__name__} (set when it starts)")
    return parts


def own_of(kit: Kit, kind: type[T]) -> T:
    """The service's own parts, built in its lifespan (`kit.own`), as the type its `deps.py`
    declares: a service asking for another's parts, or before its lifespan, fails loudly."""
    own = kit.own
    if not isinstance(own, kind):
        raise RuntimeError(f"{kit.service}'s parts are not {kind.__name__} (set in its lifespan)")
    return own


# Dependencies are coroutines: FastAPI runs a plain `def` dependency in the thread pool, a
# thread hop on every request for what is an attribute read.
async def get_kit(request: Request) -> Kit:
    return kit_of(request)


KitDep = Annotated[Kit, Depends(get_kit)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session: committed when the handler returns, before the response."""
    async for session in kit_of(request).db.session():
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_clock(request: Request) -> Clock:
    return kit_of(request).clock


async def get_settings(request: Request) -> Settings:
    return kit_of(request).settings


async def get_client(request: Request) -> ServiceClient:
    return kit_of(request).client


ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ClientDep = Annotated[ServiceClient, Depends(get_client)]

_ROLES: dict[str, Role] = {"partner": "partner", "staff": "staff", "admin": "admin"}
_KINDS: tuple[ActorKind, ...] = ("key", "twilio", "email", "service", "system", "anonymous",
                                 "person")
_PERSON_ROLES: dict[str, PersonRole] = {"key_worker": "key_worker",
                                        "coordinator": "coordinator", "admin": "admin"}


async def get_actor(request: Request) -> Actor:
    """The actor the gateway vouched for (the internal token was checked by the middleware)."""
    h = request.headers
    kind_raw = h.get(H_ACTOR_KIND, "service")
    kind: ActorKind = next((k for k in _KINDS if k == kind_raw), "anonymous")
    if kind == "person":
        return Actor(kind=kind, person_id=h.get(H_PERSON_ID),
                     person_role=_PERSON_ROLES.get(h.get(H_PERSON_ROLE, "")),
                     keyworker_id=h.get(H_KEYWORKER_ID) or None)
    return Actor(kind=kind, key_id=h.get(H_KEY_ID), org=h.get(H_ORG),
                 role=_ROLES.get(h.get(H_ROLE, "")))


ActorDep = Annotated[Actor, Depends(get_actor)]


def require_role(*roles: Role) -> Callable[..., Any]:
    """A dependency that admits only API keys with one of `roles`."""

    async def _check(actor: ActorDep) -> Actor:
        if actor.kind != "key" or actor.role not in roles:
            raise ProblemError(403, "forbidden", "Forbidden",
                               f"This needs a key with role {' or '.join(roles)}.")
        return actor

    return _check


PartnerDep = Annotated[Actor, Depends(require_role("partner", "staff", "admin"))]
StaffDep = Annotated[Actor, Depends(require_role("staff", "admin"))]
AdminDep = Annotated[Actor, Depends(require_role("admin"))]
