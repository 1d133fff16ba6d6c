"""`GET /api/v1/reports/monthly?month=YYYY-MM`: the month's figures (CONTRACT "Monthly
figures"), answered by the gateway itself, since it spans all four services: each gives its
part on `/internal/figures/monthly` and the kit composes them (services.common.figures).

For a `staff` or `admin` API key, or a coordinator or admin signed in to the desk.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from gateway.routes import REPORT_PATH
from gateway.state import state_of
from services.common.errors import ProblemError
from services.common.figures_api import FiguresUnavailable, gather, parse_month

PATH = REPORT_PATH
KEY_ROLES = frozenset({"staff", "admin"})
PERSON_ROLES = frozenset({"coordinator", "admin"})
router = APIRouter(include_in_schema=False)


async def _may_read(request: Request) -> None:
    """Admit a staff/admin key or a signed-in coordinator/admin; refuse anyone else."""
    state = state_of(request)
    auth = request.headers.get("authorization", "")
    if auth:
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        info = await state.keys.verify(token) if token else None
        if info is None:
            raise ProblemError(401, "unauthorized", "Unauthorized",
                               "The API key is missing, unknown or revoked.",
                               headers={"WWW-Authenticate": "Bearer"})
        if info.role not in KEY_ROLES:
            raise ProblemError(403, "forbidden", "Forbidden",
                               "The monthly figures need a staff or admin key.")
        return
    person = await state.identity.person(dict(request.scope["headers"]))
    if person is None:
        raise ProblemError(401, "unauthorized", "Unauthorized",
                           "Send a staff or admin API key, or sign in to the desk.",
                           headers={"WWW-Authenticate": "Bearer"})
    if person.role not in PERSON_ROLES:
        raise ProblemError(403, "forbidden", "Forbidden",
                           "The monthly figures are for coordinators and admins.")


@router.get(PATH)
async def monthly(request: Request,
                  month: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    """The month's figures as one JSON object (people are counted once across services)."""
    await _may_read(request)
    wanted = parse_month(month)
    state = state_of(request)
    try:
        return await gather(state.client, wanted)
    except FiguresUnavailable as exc:
        raise ProblemError(503, "figures-unavailable", "Figures unavailable",
                           f"The month cannot be composed now: {exc}.") from None
