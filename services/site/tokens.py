"""The confirmation page's address: a short-lived signed token, so the page can show the
reference and whether to show urgent help without anything personal in the URL (and without
the site keeping any record of its own)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

LIFETIME_SECONDS = 3600


@dataclass(frozen=True)
class Receipt:
    reference: str | None
    crisis: bool
    urgency: str
    held: bool
    # Intake's reply window in seconds (the routing rules' for the urgency), so the page says
    # exactly what intake promised this contact; None from an intake that did not say.
    window: int | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"living-well-site-receipt\x00" + secret.encode()).digest()

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:18])

    def sign(self, receipt: Receipt, now: float) -> str:
        """`<payload>.<mac>`; the payload holds the reference, flags and expiry only."""
        body = _b64(json.dumps({"r": receipt.reference, "c": receipt.crisis,
                                "u": receipt.urgency, "h": receipt.held, "w": receipt.window,
                                "e": int(now) + LIFETIME_SECONDS},
                               separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str, now: float) -> Receipt | None:
        """The receipt, or None when forged, malformed or expired."""
        body, _, mac = token.partition(".")
        if not body or not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            data = json.loads(_unb64(body))
        except ValueError:
            return None
        if not isinstance(data, dict) or int(data.get("e", 0)) < now:
            return None
        window = data.get("w")
        return Receipt(reference=data.get("r"), crisis=bool(data.get("c")),
                       urgency=str(data.get("u") or "routine"), held=bool(data.get("h")),
                       window=window if isinstance(window, int) and window > 0 else None)
