"""Texting preferences (STOP / START) by number."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import insert_for
from services.intake.models import SmsPreference


async def is_opted_out(session: AsyncSession, phone: str) -> bool:
    pref = await session.get(SmsPreference, phone)
    return bool(pref and pref.opted_out)


async def set_opt_out(session: AsyncSession, phone: str, opted_out: bool, now: datetime) -> None:
    values = {"phone": phone, "opted_out": opted_out, "updated_at": now}
    stmt = insert_for(session.get_bind().dialect.name, SmsPreference).values(**values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["phone"], set_={"opted_out": opted_out, "updated_at": now}))
