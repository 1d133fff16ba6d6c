"""The versioned wording files, checked on load so a typo fails at start-up, not mid-call."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.common.promises import promises, words_for

M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrisisWords(_Strict):
    connecting: str
    trying_next: str
    crisis_line: str
    no_one_available: str
    goodbye: str


class SupportWords(_Strict):
    record_prompt: str
    thanks: str
    callback_promise: str
    text_promise: str
    no_number: str
    nothing_heard: str
    signposting: str


class ProfessionalWords(_Strict):
    information: str
    thanks: str


class KeyWorkerWords(_Strict):
    connecting: str
    unavailable: str
    not_found: str
    thanks: str


class IvrScript(_Strict):
    """`data/ivr.yaml`: everything the phone line says."""

    version: str
    voice: str
    language: str
    greeting: str
    menu: str
    key_worker_option: str
    not_understood: str
    crisis: CrisisWords
    support: SupportWords
    professionals: ProfessionalWords
    key_worker: KeyWorkerWords


class SmsWords(_Strict):
    received: str
    joined: str
    crisis: str
    stopped: str
    started: str
    reply_pending: str


class EmailWords(_Strict):
    subject: str
    body: str


class Replies(_Strict):
    """`data/replies.yaml`: SMS and email wording and callback deadlines. When someone will
    hear back is not here: it is the routing rules' window (`services.common.promises`), the
    same that sets a referral's respond-by, so every channel promises the same."""

    version: str
    sms: SmsWords
    email: EmailWords
    callbacks: dict[str, int] = Field(description="minutes until due, by risk")

    @model_validator(mode="after")
    def _promises_readable(self) -> Replies:
        # Read the rules with the wording, at start-up: a missing or broken rules file stops
        # intake there, with the file named, rather than failing a person's text later.
        try:
            promises().windows()
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise ValueError(f"the routing rules (for response times): {exc}") from exc
        return self

    @property
    def response_times(self) -> dict[str, str]:
        """Plain words for each urgency, from the routing rules in force."""
        return {u: words_for(w) for u, w in promises().windows().items()}

    def response_time(self, urgency: str) -> str:
        """Plain words for when someone will hear back at this urgency ("within 7 days")."""
        return promises().words(urgency)


class CrisisPhraseList(_Strict):
    """`data/crisis_phrases.yaml`: phrases by kind, and known false alarms."""

    version: str
    phrases: dict[str, list[str]]
    except_: list[str] = Field(default_factory=list, alias="except")


def load(path: Path, model: type[M]) -> M:
    """Read one YAML file into its model; raises ValueError naming the file when it is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return model.model_validate(raw)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
