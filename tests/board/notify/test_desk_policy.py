"""The escalation policy in force for coordinators and admins, read-only: its version and
each urgency's steps in time order, as the file says; key workers and keys get 403."""

from __future__ import annotations

from services.notify.policy import load_policy
from services.notify.settings import DEFAULT_POLICY
from tests.board.people import refused_everyone_but_coordinators, signed_in
from tests.notify.conftest import NotifyHarness

POLICY = "/api/v1/desk/escalation"


async def test_the_policy_in_force_step_by_step(notify: NotifyHarness) -> None:
    resp = await notify.client.get(POLICY, headers=signed_in("coordinator"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    expected = load_policy(DEFAULT_POLICY)
    assert body["version"] == expected.version
    assert list(body["urgency"]) == ["emergency", "very_urgent", "urgent", "routine"]
    routine = body["urgency"]["routine"]
    assert [s["action"] for s in routine] == ["sms", "reminder", "call", "alert_coordinator",
                                              "next_candidate"]
    assert routine[3] == {"after_seconds": 43200, "action": "alert_coordinator",
                          "from_offer": 2}
    assert (await notify.client.post(POLICY, headers=signed_in("admin"))).status_code == 405


async def test_key_workers_and_keys_get_403(notify: NotifyHarness) -> None:
    for headers in refused_everyone_but_coordinators():
        assert (await notify.client.get(POLICY, headers=headers)).status_code == 403
