"""NHS.UK components that are the same for everyone, rendered once per process.

The design system's macros are costly to render (each includes its template, which imports
its helpers and walks its parameters): the person page's forms alone took more than half of
its rendering. A form's radios, buttons or outcome list carry no one's details, so the desk
keeps their HTML. Only call `kept` with parameters written in a template (and, through
`keep`, never with what a person's record holds): the parameters are the cache's key."""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Undefined
from markupsafe import Markup

LIMIT = 256  # a few dozen call sites; a bound all the same
_kept: dict[str, Markup] = {}


def _plain(value: Any) -> Any:
    if isinstance(value, Undefined):
        return None  # an optional parameter left out renders as if absent
    raise TypeError(type(value).__name__)


def kept(macro: Any, params: dict[str, Any], keep: bool = True) -> Markup:
    """`macro(params)`, rendered once and kept when `keep`."""
    if not keep:
        return Markup(macro(params))
    key = f"{getattr(macro, 'name', macro)}:{json.dumps(params, sort_keys=True, default=_plain)}"
    found = _kept.get(key)
    if found is None:
        if len(_kept) >= LIMIT:
            _kept.clear()
        found = _kept[key] = Markup(macro(params))
    return found
