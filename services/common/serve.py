"""Run one app under uvicorn on 127.0.0.1 (uvloop and httptools when installed)."""

from __future__ import annotations

import uvicorn
from starlette.types import ASGIApp


def serve(app: ASGIApp, port: int, host: str = "127.0.0.1") -> None:
    """Serve until SIGINT/SIGTERM; uvicorn finishes in-flight requests first."""
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False,
                timeout_graceful_shutdown=10, server_header=False, lifespan="on")

