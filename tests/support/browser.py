"""A real browser for page tests: Playwright driving Chromium, and axe-core on every page.

Chromium is Playwright's own download where `playwright install chromium` has been run (a
developer's machine), else the system's (`/usr/bin/chromium`, Debian's package, which the
Makefile installs where it can). A test needing a browser skips, saying why, only where neither
exists; with LIVEWELL_REQUIRE_BROWSER=1 (CI) that is a failure instead.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.support.twilio import free_port
from tests.support.waiting import eventually_sync

PHONE: dict[str, int] = {"width": 375, "height": 740}
DESKTOP: dict[str, int] = {"width": 1280, "height": 900}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SYSTEM_CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Chromium's own calls home are refused on machines without internet, many at a time.
QUIET_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
              "--disable-background-networking", "--disable-component-update",
              "--disable-default-apps", "--disable-dev-shm-usage"]


def system_chromium() -> str | None:
    """The system's Chromium, if any (LIVEWELL_CHROMIUM names one explicitly)."""
    named = os.environ.get("LIVEWELL_CHROMIUM")
    if named:
        return named if Path(named).exists() else None
    for name in SYSTEM_CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    return None


def _launch(playwright: Any) -> Any:
    args = list(QUIET_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses its sandbox when run as root
    bundled = Path(playwright.chromium.executable_path)
    if bundled.exists() and not os.environ.get("LIVEWELL_CHROMIUM"):
        return playwright.chromium.launch(headless=True, args=args)
    path = system_chromium()
    if path is None:
        return None
    return playwright.chromium.launch(headless=True, executable_path=path, args=args)


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium for one test. Playwright's sync API keeps its event loop marked
    running in this thread while it is open: a browser kept for longer would leave it running
    under the asynchronous tests that follow, which then cannot start their own."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a dev dependency
        _skip_or_fail(f"playwright is not installed ({exc})")
    with sync_playwright() as playwright:
        launched = _launch(playwright)
        if launched is None:
            _skip_or_fail("no Chromium: run `playwright install chromium` or install the "
                          "system package (`apt-get install chromium`)")
        try:
            yield launched
        finally:
            launched.close()


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("LIVEWELL_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def new_page(browser: Any, viewport: dict[str, int], **context_options: Any) -> Any:
    """A page in a fresh context (its own cookies) at `viewport`, JavaScript on unless told."""
    context = browser.new_context(viewport=viewport, **context_options)
    return context.new_page()


def assert_accessible(page: Any, *, what: str = "") -> None:
    """axe-core finds no WCAG 2.2 A/AA violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                       "resultTypes": ["violations"]})
    if results.violations_count:
        raise AssertionError(
            f"axe found {results.violations_count} violation(s) on {what or page.url} "
            f"at {page.viewport_size}:\n{results.generate_report()}")


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under var/screenshots/ (docs use the ones tests make)."""
    out = Path(os.environ.get("LIVEWELL_SCREENSHOTS", "var/screenshots"))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a free 127.0.0.1 port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"serve-{port}", daemon=True)
    thread.start()

    def started() -> bool:
        if not thread.is_alive():
            raise RuntimeError("the app stopped before it started")
        return bool(server.started)

    eventually_sync(started, timeout=30, interval=0.02, what="the app to start serving")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
