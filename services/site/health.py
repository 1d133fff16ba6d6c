"""Liveness, readiness and metrics of the site (it has no database to ping)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from services.site.deps import SiteDep

router = APIRouter(include_in_schema=False)
test_clock_router = APIRouter(prefix="/internal/clock", include_in_schema=False)


class Advance(BaseModel):
    seconds: float = Field(ge=0, le=30 * 86400)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "service": "site"}


@router.get("/readyz")
async def readyz() -> dict[str, object]:
    # Pages, advice and catalogues are loaded before the app exists: serving means ready.
    return {"status": "ready", "service": "site", "checks": {"content": "ok"}}


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@test_clock_router.post("/advance")
async def advance_clock(body: Advance, site: SiteDep) -> dict[str, float]:
    """Move the site's clock (receipts expire by it) with the others' (LIVEWELL_TEST_CLOCK=1)."""
    site.clock_offset += body.seconds
    return {"offset": site.clock_offset}
