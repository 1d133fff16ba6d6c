"""Webhook authentication: Twilio's request signature and the mail provider's basic auth."""

from __future__ import annotations

import base64
import binascii
import hmac
from urllib.parse import parse_qsl

from multidict import MultiDict
from twilio.request_validator import RequestValidator


class TwilioSignature:
    """Checks `X-Twilio-Signature` against the public URL Twilio called (not the socket's)."""

    def __init__(self, auth_token: str, public_base_url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._base = public_base_url.rstrip("/")

    def valid(self, path: str, query: str, body: bytes, content_type: str,
              signature: str | None) -> bool:
        if not signature:
            return False
        url = self._base + path + (f"?{query}" if query else "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            try:
                # Every value of a repeated parameter, in order: Twilio signs each of them
                # (the validator reads them through `getall`); a dict would keep only the last.
                params = MultiDict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                return False
            # Twilio signs the URL as configured: check that first (one HMAC), and only on a
            # mismatch let the validator try the URL with and without an explicit port.
            expected = self._validator.compute_signature(url, params)
            if hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
                return True
            return bool(self._validator.validate(url, params, signature))
        # Any other body is signed through its SHA-256 in the `bodySHA256` query parameter;
        # without it there is nothing to check the body against.
        if "bodySHA256=" not in query:
            return False
        try:
            return bool(self._validator.validate(url, body.decode("utf-8"), signature))
        except (TypeError, ValueError, UnicodeDecodeError):
            return False


def form_parameter_count(body: bytes) -> int:
    """How many parameters a form body holds, counted without parsing it."""
    return body.count(b"&") + 1 if body else 0


def basic_auth_password(header: str | None) -> str | None:
    """The password of an HTTP basic `Authorization` header (any user name)."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, sep, password = decoded.partition(":")
    return password if sep else None


def same_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
