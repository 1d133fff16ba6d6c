"""One Jinja2 environment per web service: its own templates first, then the kit's layouts,
then the NHS.UK frontend macros (`nhsuk/components/<name>/macro.jinja`)."""

from __future__ import annotations

import gettext
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import jinja2
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse

KIT_TEMPLATES = Path(__file__).parent / "templates"

# The request's translations. Jinja's i18n extension reads gettext through these callables, so
# one environment serves every language at once without a per-request environment.
translations_var: ContextVar[gettext.NullTranslations | None] = ContextVar(
    "translations", default=None)
_UNTRANSLATED = gettext.NullTranslations()


def _current() -> gettext.NullTranslations:
    return translations_var.get() or _UNTRANSLATED


def _gettext(message: str) -> str:
    return _current().gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _current().ngettext(singular, plural, n)


def _pgettext(context: str, message: str) -> str:
    return _current().pgettext(context, message)


class Pages:
    """Renders a service's pages as HTML responses."""

    def __init__(self, directories: Sequence[Path], *, globals_: Mapping[str, Any] | None = None,
                 auto_reload: bool = False) -> None:
        loader = jinja2.ChoiceLoader([
            jinja2.FileSystemLoader([*map(str, directories), str(KIT_TEMPLATES)]),
            jinja2.PackageLoader("nhsuk_frontend_jinja", "templates"),
        ])
        self.env = jinja2.Environment(
            loader=loader,
            autoescape=jinja2.select_autoescape(("html", "jinja", "j2"), default=True),
            extensions=["jinja2.ext.i18n"],
            # The NHS.UK macros read optional nested parameters (`params.icon.html`).
            undefined=jinja2.ChainableUndefined,
            auto_reload=auto_reload,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.install_gettext_callables(  # type: ignore[attr-defined]
            _gettext, _ngettext, newstyle=True, pgettext=_pgettext)
        self.env.globals.update(globals_ or {})

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        return self.env.get_template(name).render(context)

    def response(self, request: Request, name: str, context: Mapping[str, Any] | None = None,
                 *, status_code: int = 200, headers: Mapping[str, str] | None = None,
                 background: BackgroundTask | None = None) -> HTMLResponse:
        """The page `name` rendered with `context` plus the request."""
        body = self.render(name, {"request": request, **(context or {})})
        return HTMLResponse(body, status_code=status_code, headers=headers,
                            background=background)
