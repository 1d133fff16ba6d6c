"""Who may use the Hub board and people search: coordinators and admins signed in to the
desk. A key worker is refused (403) as is every key: the rule lives in each owning service,
not in the desk's links."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.common.context import Actor
from services.common.deps import ActorDep
from services.common.errors import ProblemError


async def coordinating(actor: ActorDep) -> Actor:
    if actor.kind != "person" or actor.person_role not in ("coordinator", "admin"):
        raise ProblemError(403, "forbidden", "Forbidden",
                           "This is for coordinators and admins signed in.")
    return actor


CoordinatorDep = Annotated[Actor, Depends(coordinating)]
