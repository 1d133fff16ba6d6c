"""The directory's tests run referral in-process (its harness, imported) with a few helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.common.context import H_ACTOR_KIND, H_PERSON_ID, H_PERSON_ROLE
from services.referral.directory.cli import SEED
from tests.referral.conftest import referral  # noqa: F401

EXAMPLES = Path(__file__).parent / "examples"
ANONYMOUS = {H_ACTOR_KIND: "anonymous"}


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def seed_data() -> Any:
    return json.loads(SEED.read_text(encoding="utf-8"))


def person(role: str, person_id: str = "acct-1") -> dict[str, str]:
    """Headers the gateway adds for someone signed in to the desk."""
    return {H_ACTOR_KIND: "person", H_PERSON_ID: person_id, H_PERSON_ROLE: role}

from tests.notify.conftest import gateway, notify, notify_service, peers  # noqa: E402,F401
