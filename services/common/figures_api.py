"""`GET /internal/figures/monthly?month=YYYY-MM`: one service's part of the monthly figures.

Each service passes the function that computes its part from its own tables; the route, the
month's validation and the answer's shape are the same everywhere. `gather` asks the four
services for their parts and composes them (the CLI, the gateway's report API and the desk).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import aiohttp
from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.deps import SessionDep
from services.common.errors import invalid
from services.common.figures import Month, compose
from services.common.http import ServiceClient
from services.common.settings import ServiceName

Part = Callable[[AsyncSession, Month], Awaitable[dict[str, Any]]]
PATH = "/internal/figures/monthly"


def parse_month(text: str | None) -> Month:
    """The month of a request, or a 422 naming `month`."""
    try:
        return Month.parse(text or "")
    except ValueError as exc:
        raise invalid(["query", "month"], str(exc)) from None


def figures_router(part: Part) -> APIRouter:
    """The internal route answering this service's part for a month."""
    router = APIRouter(tags=["internal"], include_in_schema=False)

    @router.get(PATH)
    async def monthly(session: SessionDep,
                      month: Annotated[str | None, Query()] = None) -> dict[str, Any]:
        """This service's part of the month's figures (internal ids of people included)."""
        wanted = parse_month(month)
        return {"month": str(wanted), **await part(session, wanted)}

    return router


FIGURE_SERVICES: tuple[ServiceName, ...] = ("intake", "referral", "notify", "keyperson")


class FiguresUnavailable(RuntimeError):
    """A service did not give its part: the month is not composed from what is left."""


async def gather(client: ServiceClient, month: Month, *, timeout: float = 30.0) -> dict[str, Any]:
    """The month's figures: every service's part, asked for at once, composed by the kit."""

    async def part(service: ServiceName) -> dict[str, Any]:
        try:
            resp = await client.get(service, f"{PATH}?month={month}", timeout=timeout)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise FiguresUnavailable(f"{service} did not answer ({type(exc).__name__})") from exc
        if not resp.ok or not isinstance(resp.body, dict):
            raise FiguresUnavailable(f"{service} answered {resp.status}")
        return resp.body

    parts = await asyncio.gather(*(part(s) for s in FIGURE_SERVICES))
    return compose(month, parts)
