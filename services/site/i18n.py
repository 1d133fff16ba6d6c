"""Languages of the site: which one a request gets, and its gettext catalogue (Babel).

The choice is the visible switcher's cookie when set, else the browser's `Accept-Language`,
else English. Catalogues live in `translations/<lang>/LC_MESSAGES/messages.mo` (compiled from
the `.po` files by `make -C services/site translations`, see `docs/site.md`).
"""

from __future__ import annotations

import gettext
from pathlib import Path

from babel.support import Translations

TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT = "en"
# Lambeth's most spoken languages after English; the switcher names each in its own language.
LANGUAGES: dict[str, str] = {"en": "English", "pl": "Polski", "pt": "Português",
                             "es": "Español"}
COOKIE = "lang"


def _weights(header: str) -> list[tuple[float, int, str]]:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if tag:
            ranked.append((quality, -position, tag.strip().lower()))
    return sorted(ranked, reverse=True)


def from_accept_language(header: str | None) -> str | None:
    """The best of our languages the browser asks for (`pt-BR` counts as `pt`), or None."""
    for quality, _, tag in _weights(header or ""):
        base = tag.split("-")[0]
        if quality > 0 and base in LANGUAGES:
            return base
    return None


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The language of this request."""
    if cookie in LANGUAGES:
        return str(cookie)
    return from_accept_language(accept_language) or DEFAULT


def load_catalogues(directory: Path = TRANSLATIONS) -> dict[str, gettext.NullTranslations]:
    """Every language's compiled catalogue; English is the source text itself."""
    found: dict[str, gettext.NullTranslations] = {DEFAULT: gettext.NullTranslations()}
    for lang in LANGUAGES:
        if lang != DEFAULT:
            found[lang] = Translations.load(str(directory), [lang], domain="messages")
    return found
