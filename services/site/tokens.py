"""The confirmation page's address: a short-lived sealed token, so the page can show the
reference and whether to show urgent help without anything personal in the URL (and without
the site keeping any record of its own). Sealed, not only signed: whether the message read as a
crisis, and its urgency, are health details, and the address stays in the browser's history on a
device the person may share, so the token is encrypted (AES-GCM, which also authenticates it)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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
        key = hashlib.sha256(b"living-well-site-receipt\x00" + secret.encode()).digest()
        self._aead = AESGCM(key)

    def sign(self, receipt: Receipt, now: float) -> str:
        """The receipt (reference, flags and expiry only), encrypted and authenticated."""
        body = json.dumps({"r": receipt.reference, "c": receipt.crisis,
                           "u": receipt.urgency, "h": receipt.held, "w": receipt.window,
                           "e": int(now) + LIFETIME_SECONDS}, separators=(",", ":")).encode()
        nonce = os.urandom(12)
        return _b64(nonce + self._aead.encrypt(nonce, body, b"receipt"))

    def verify(self, token: str, now: float) -> Receipt | None:
        """The receipt, or None when forged, malformed or expired."""
        try:
            raw = _unb64(token)
            data = json.loads(self._aead.decrypt(raw[:12], raw[12:], b"receipt"))
        except (ValueError, binascii.Error, InvalidTag):
            return None
        if not isinstance(data, dict) or int(data.get("e", 0)) < now:
            return None
        window = data.get("w")
        return Receipt(reference=data.get("r"), crisis=bool(data.get("c")),
                       urgency=str(data.get("u") or "routine"), held=bool(data.get("h")),
                       window=window if isinstance(window, int) and window > 0 else None)
