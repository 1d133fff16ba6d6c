"""A value PostgreSQL refuses to store (a NUL character in text) is the caller's invalid input:
a documented 422 naming where it was, not a 500 (the fuzzer found it on /api/v1/contacts)."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Query
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.common.errors import PROBLEM_JSON, install_error_handlers
from tests.support.databases import PG_ADMIN_URL, require_pg


def _app() -> FastAPI:
    engine = create_async_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"))
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/things/{thing_id}")
    async def find(thing_id: str, reference: Annotated[str, Query()] = "") -> dict[str, str]:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT CAST(:a AS text), CAST(:b AS text)"),
                               {"a": thing_id, "b": reference})
        return {"id": thing_id}

    return app


@pytest.mark.parametrize(("url", "loc"), [
    ("/things/1?reference=LW-%00", ["query", "reference"]),
    ("/things/a%00b", ["path", "thing_id"]),
])
async def test_a_nul_character_is_a_422_naming_where_it_was(url: str, loc: list[str]) -> None:
    require_pg()
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/things/1?reference=LW-1")).status_code == 200
        resp = await client.get(url)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == PROBLEM_JSON
    problem = resp.json()
    assert problem["errors"][0]["loc"] == loc
    assert "\x00" not in resp.text and "LW-" not in resp.text, "never echoes the input"
