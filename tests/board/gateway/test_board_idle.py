"""An open board polling every few seconds does not keep its session alive: only the
person's own requests reset the 15-minute idle clock (the gateway's clock, moved by the test)."""

from __future__ import annotations

from tests.gateway.conftest import GatewayHarness
from tests.gateway.test_identity import enrol, state

POLL = {"x-livewell-update": "board", "hx-request": "true",
        "hx-current-url": "https://line.example.org/desk/board"}


async def test_a_session_whose_only_traffic_is_board_polling_ends_after_the_idle_timeout(
    gw: GatewayHarness,
) -> None:
    await enrol(gw, "duty@example.org", role="coordinator", keyworker_id=None)
    assert (await gw.client.get("/desk/board")).status_code == 200
    for minute in range(14):  # a poll every minute: all answered, none counted as activity
        state(gw).clock.advance(60)
        poll = await gw.client.get("/desk/board/live", headers=POLL)
        assert poll.status_code == 200, minute
    state(gw).clock.advance(61)  # 15 minutes and a second since the person's last request
    poll = await gw.client.get("/desk/board/live", headers=POLL)
    assert poll.status_code == 401
    assert poll.headers["hx-redirect"] == "/desk/sign-in?next=/desk/board"
    assert poll.content == b""
    assert (await gw.client.get("/desk/board")).status_code == 303


async def test_the_persons_own_requests_still_keep_the_session_alive(gw: GatewayHarness) -> None:
    await enrol(gw, "busy@example.org", role="coordinator", keyworker_id=None)
    for _ in range(3):  # a click every 10 minutes, polls between them
        state(gw).clock.advance(5 * 60)
        assert (await gw.client.get("/desk/board/live", headers=POLL)).status_code == 200
        state(gw).clock.advance(5 * 60)
        assert (await gw.client.get("/desk/board")).status_code == 200
    assert (now_ok := await gw.client.get("/desk/board/live", headers=POLL)).status_code == 200
    assert now_ok.headers.get("hx-redirect") is None
