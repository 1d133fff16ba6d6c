"""Identifiers: opaque ids, human references and unguessable codes."""

from __future__ import annotations

import secrets
import uuid

# Crockford's base32 without I, L, O, U: easy to read aloud and to type on a phone.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    """A random UUID as text: the id of any row a client may see."""
    return str(uuid.uuid4())


def random_code(length: int, alphabet: str = _ALPHABET) -> str:
    """A random code from a cryptographic source."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_reference(prefix: str = "LW") -> str:
    """A reference people can read out on the phone, e.g. `LW-7K3M-Q9XA`."""
    code = random_code(8)
    return f"{prefix}-{code[:4]}-{code[4:]}"
