"""Static files of a web face: the vendored NHS.UK frontend under `<prefix>/nhsuk/`, the kit's
own scripts under `<prefix>/kit/`, and the service's own files under `<prefix>/`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

KIT_STATIC = Path(__file__).parent / "static"
NHSUK_VERSION = "10.6.1"


def mount_static(app: FastAPI, prefix: str, own: Path | None = None) -> None:
    """Serve the kit's and the service's static files below `prefix` (e.g. `/desk/static`)."""
    app.mount(f"{prefix}/nhsuk", StaticFiles(directory=KIT_STATIC / "nhsuk"), name="nhsuk")
    app.mount(f"{prefix}/kit", StaticFiles(directory=KIT_STATIC / "kit"), name="kit")
    if own is not None:
        app.mount(prefix, StaticFiles(directory=own), name="static")
