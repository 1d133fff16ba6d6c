"""Referral's own typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.referral.rules import RulesStore

RULES = "rules"


async def get_rules(request: Request) -> RulesStore:
    store: RulesStore = request.app.state.kit.extras[RULES]
    return store


RulesDep = Annotated[RulesStore, Depends(get_rules)]
