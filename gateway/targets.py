"""Which request targets the gateway refuses before anything else looks at them.

The gateway routes on the path and a service behind it (or the client library between them)
may read the same path differently: `/api/v1/referrals/%2e%2e/%2e%2e/internal/…` matches the
public referrals route here and is `/internal/…` once anything decodes the dots and removes
the segments. So a target is refused unless routing it and forwarding it can only mean one
thing: no dot segments in any spelling, no encoded `/`, `\\`, `.`, `?`, `#` or `%`, no
backslash, no empty segment, nothing outside visible ASCII. No client of this API (Twilio, a
mail provider, a partner's system) needs any of them.
"""

from __future__ import annotations

import re

from starlette.types import Scope

# Encodings that would change the path's structure once decoded: `.`, `/`, `\`, `?`, `#`,
# `%` itself (double encoding), and control characters. A `%` not followed by two hex
# digits is malformed.
_BAD_ESCAPE = re.compile(rb"%(?:2e|2f|5c|3f|23|25|[01][0-9a-f]|7f)|%(?![0-9a-f]{2})", re.I)
_VISIBLE_ASCII = re.compile(rb"^[\x21-\x7e]*$")
REASON = ("The path must not contain dot segments, empty segments, a backslash, control "
          "characters, or an encoded '.', '/', '\\', '?', '#' or '%'.")


def raw_path(scope: Scope) -> bytes:
    """The path exactly as the client sent it (the server decodes `scope["path"]`)."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw.split(b"?", 1)[0]
    path: str = scope["path"]
    return path.encode("utf-8")


def refused(scope: Scope) -> bool:
    """True when the target must be refused with 400 (see the module's docstring)."""
    raw = raw_path(scope)
    if not _safe_path(raw) or not _VISIBLE_ASCII.match(scope.get("query_string", b"")):
        return True
    # The decoded path too, in case a server decodes something the raw checks allowed.
    decoded: str = scope["path"]
    return not _safe_path(decoded.encode("utf-8", "surrogatepass"), decoded_form=True)


def _safe_path(path: bytes, *, decoded_form: bool = False) -> bool:
    if not path.startswith(b"/") or b"\\" in path:
        return False
    if decoded_form:
        if any(c < 0x20 or c == 0x7F for c in path) or b"?" in path or b"#" in path:
            return False
    elif not _VISIBLE_ASCII.match(path) or _BAD_ESCAPE.search(path):
        return False
    segments = path[1:].split(b"/")
    # An empty segment is allowed only last (`/api/v1/referrals/`); `.` and `..` never.
    return not any(s in (b".", b"..") for s in segments) and b"" not in segments[:-1]
