"""Run one app under uvicorn on 127.0.0.1 (uvloop and httptools when installed)."""

from __future__ import annotations

from typing import Any

import uvicorn
from starlette.types import ASGIApp


def serve(app: ASGIApp, port: int, host: str = "127.0.0.1") -> None:
    """Serve until SIGINT/SIGTERM; uvicorn finishes in-flight requests first.

    `proxy_headers` off: the scheme and client address are the connection's own, never what an
    `X-Forwarded-*` header claims (uvicorn trusts those from 127.0.0.1 by default, and every
    request here comes from 127.0.0.1)."""
    uvicorn.run(app, **serve_options(host, port))


def serve_options(host: str, port: int) -> dict[str, Any]:
    """uvicorn's keyword arguments for a service, kept apart so a test can check them."""
    return {"host": host, "port": port, "log_config": None, "access_log": False,
            "timeout_graceful_shutdown": 10, "server_header": False, "lifespan": "on",
            "proxy_headers": False}

