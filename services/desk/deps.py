"""The desk's own parts, built once in its lifespan: the backend that asks the services (with
the signed-in person's headers), the settings and the clock. Routes read them as `DeskDep`;
helpers that have only the request read them with `of(request.app)`: checked, no cast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.applications import Starlette

from services.common.clock import Clock
from services.common.deps import parts_of
from services.common.settings import Settings
from services.desk.backend import Backend


@dataclass
class Desk:
    settings: Settings
    backend: Backend
    clock: Clock


def build(settings: Settings) -> Desk:
    """The desk's parts; the backend's client is started and closed by the app's lifespan."""
    return Desk(settings=settings, backend=Backend(settings), clock=Clock())


def of(app: Starlette) -> Desk:
    """The desk's parts, as its lifespan left them on the app."""
    return parts_of(app, Desk)


# A coroutine: FastAPI would run a plain `def` dependency in the thread pool.
async def get_desk(request: Request) -> Desk:
    return of(request.app)


DeskDep = Annotated[Desk, Depends(get_desk)]
