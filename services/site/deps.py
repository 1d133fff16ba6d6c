"""The site's own parts, built once when its app is made: the pages and their wording, the
advice, the questionnaires, the receipt sealer, the caches of rendered pages, and the clients
of intake and of referral's directory. Routes read them as `SiteDep`; code that has only the
request (rendering, the error pages) reads them with `of(request.app)`: checked, no cast.
"""

from __future__ import annotations

import gettext
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import phonenumbers
import yaml
from fastapi import Depends, Request
from starlette.applications import Starlette

from services.common.deps import parts_of
from services.common.http import ServiceClient
from services.common.settings import Settings
from services.common.web import Pages
from services.site.content import Library
from services.site.directory_client import DirectoryReader, ReferralDirectory
from services.site.i18n import load_catalogues
from services.site.intake_client import ContactSender, IntakeContacts
from services.site.kept import KeptPage
from services.site.tokens import Signer

HERE = Path(__file__).parent
STATIC_PREFIX = "/static/site"
Questionnaires = dict[str, dict[str, dict[str, Any]]]


@dataclass
class Site:
    settings: Settings
    pages: Pages
    catalogues: dict[str, gettext.NullTranslations]
    library: Library
    questionnaires: Questionnaires
    signer: Signer
    sender: ContactSender
    directory: DirectoryReader
    wall_clock: Callable[[], float]
    secure_cookies: bool
    # The client under `sender` when the site talks to intake itself: started and closed
    # with the app (None when a test hands in a sender of its own).
    client: ServiceClient | None = None
    clock_offset: float = 0.0  # moved by the test clock only
    # Pages that are the same for everyone in a language, rendered once (pages.cached):
    # the contact form's text (its token is filled in per request), and the rest kept ready
    # to send by (language, path) (services/site/kept.py).
    page_cache: dict[tuple[str, ...], str] = field(default_factory=dict)
    kept: dict[tuple[str, str], KeptPage] = field(default_factory=dict)

    def now(self) -> float:
        return self.wall_clock() + self.clock_offset


def _questionnaires() -> Questionnaires:
    return {name: yaml.safe_load((HERE / "questionnaires" / f"{name}.yaml").read_text("utf-8"))
            for name in ("phq9", "gad7")}


def _number_words(e164: str) -> dict[str, str]:
    """The single number as people read it and as a `tel:` link."""
    national = phonenumbers.format_number(phonenumbers.parse(e164, "GB"),
                                          phonenumbers.PhoneNumberFormat.NATIONAL)
    return {"phone_display": national, "phone_tel": e164}


def build(settings: Settings, sender: ContactSender | None = None,
          directory: DirectoryReader | None = None,
          now: Callable[[], float] = time.time) -> Site:
    """The site's parts. `sender` defaults to intake over HTTP (its client is started in the
    app's lifespan), `directory` to referral's open directory."""
    client: ServiceClient | None = None
    if sender is None:
        client = ServiceClient(settings)
        sender = IntakeContacts(client)
    return Site(
        settings=settings,
        pages=Pages([HERE / "templates"], globals_={
            **_number_words(settings.twilio_phone_number),
            "email_address": settings.email_address, "static": STATIC_PREFIX}),
        catalogues=load_catalogues(), library=Library(), questionnaires=_questionnaires(),
        signer=Signer(settings.internal_secret),
        sender=sender, directory=directory or ReferralDirectory(settings), wall_clock=now,
        secure_cookies=settings.public_base_url.startswith("https://"), client=client)


def of(app: Starlette) -> Site:
    """The site's parts, as `create_app` left them on the app."""
    return parts_of(app, Site)


# A coroutine: FastAPI would run a plain `def` dependency in the thread pool.
async def get_site(request: Request) -> Site:
    return of(request.app)


SiteDep = Annotated[Site, Depends(get_site)]
