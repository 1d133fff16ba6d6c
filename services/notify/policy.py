"""The escalation policy: a versioned data file, per urgency, read once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

Action = Literal["sms", "reminder", "call", "alert_coordinator", "next_candidate"]
Urgency = Literal["emergency", "very_urgent", "urgent", "routine"]


class Step(BaseModel):
    """Do `action` `after` seconds from the offer (from the `from_offer`-th offer on)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: float = Field(ge=0)
    action: Action
    from_offer: int = Field(default=1, ge=1)


class Policy(BaseModel):
    """Steps per urgency, and how long a reply code outlives the respond-by time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    code_valid_after_respond_by: float = Field(default=3600, ge=0)
    urgency: dict[Urgency, list[Step]]

    def _for(self, urgency: str) -> list[Step]:
        by_name: dict[str, list[Step]] = {str(k): v for k, v in self.urgency.items()}
        return by_name.get(urgency) or by_name["urgent"]

    def steps(self, urgency: str, offer: int) -> list[tuple[int, Step]]:
        """The steps that apply to the `offer`-th offer, with their index, in time order."""
        steps = self._for(urgency)
        chosen = [(i, s) for i, s in enumerate(steps) if offer >= s.from_offer]
        return sorted(chosen, key=lambda pair: (pair[1].after, pair[0]))

    def step(self, urgency: str, index: int) -> Step:
        return self._for(urgency)[index]

    def next_step(self, urgency: str, offer: int, elapsed: float) -> Step | None:
        """The first step still to come `elapsed` seconds after the `offer`-th offer."""
        return next((s for _, s in self.steps(urgency, offer) if s.after > elapsed), None)


def load_policy(path: Path) -> Policy:
    """Read and check the policy file; every urgency must start with something sent."""
    policy = Policy.model_validate(yaml.safe_load(path.read_text()))
    for urgency in ("emergency", "very_urgent", "urgent", "routine"):
        steps = dict(policy.urgency).get(urgency)
        if not steps:
            raise ValueError(f"escalation policy: no steps for {urgency}")
        if not any(s.action in ("sms", "call") and s.after == 0 for s in steps):
            raise ValueError(f"escalation policy: {urgency} sends nothing at once")
    return policy
