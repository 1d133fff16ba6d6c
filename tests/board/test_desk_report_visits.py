"""The desk's report page shows the month's outreach visits (given, and outcomes recorded by
outcome, in the outreach page's words) beside the other figures, the services stood in for."""

from __future__ import annotations

from typing import Any

import pytest

from services.common.figures import Month, empty
from services.desk import report_pages
from tests.board.people import signed_in
from tests.board.test_desk_board import desk  # noqa: F401


async def test_the_report_page_shows_outreach_visits(
    desk: Any, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    client, _, _ = desk

    async def figures(request: Any, months: list[Month]) -> list[dict[str, Any]]:
        out = [empty(m) for m in months]
        out[-1]["outreach_visits"] = {"assigned": 4,
                                      "by_outcome": {"engaged": 2, "not_home": 1}}
        return out

    monkeypatch.setattr(report_pages, "_figures", figures)
    page = await client.get("/desk/report?month=2026-11", headers=signed_in("coordinator"))
    assert page.status_code == 200, page.text
    assert "4 visits given to a key worker in Nov 2026" in page.text
    assert ('<th scope="row">Seen: agreed to support</th>'
            '<td class="nhsuk-table__cell--numeric">2</td>') in page.text
    assert '<th scope="row">Nobody at home</th>' in page.text
    assert "Outreach visits given" in page.text
