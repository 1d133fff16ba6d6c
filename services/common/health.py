"""Liveness, readiness and metrics routes, the same in every service."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from services.common.deps import ClockDep, KitDep

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz(kit: KitDep) -> dict[str, str]:
    return {"status": "ok", "service": kit.service}


@router.get("/readyz")
async def readyz(kit: KitDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(kit.db.ping(), timeout=2.0)
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the type is enough to act on
        log.warning("readiness: database not answering", extra={"error": type(exc).__name__})
        checks["database"] = "unavailable"
    last = kit.relay.last_loop_at
    stale = last is None or kit.clock.now() - last > timedelta(seconds=30)
    checks["outbox_relay"] = "stalled" if stale else "ok"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "service": kit.service,
                         "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class Advance(BaseModel):
    seconds: float = Field(ge=0, le=30 * 86400)


test_clock_router = APIRouter(prefix="/internal/clock", include_in_schema=False)


@test_clock_router.post("/advance")
async def advance_clock(body: Advance, clock: ClockDep, request: Request) -> dict[str, str]:
    """Move this process's clock forward (only with LIVEWELL_TEST_CLOCK=1)."""
    now = clock.advance(body.seconds)
    request.app.state.kit.relay.wake()
    return {"now": now.isoformat()}
