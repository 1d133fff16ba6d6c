"""`kill -9` each of the five processes in turn while calls, texts and referrals keep coming:
the supervisor brings each back (a new pid in `var/run/processes.json`) and nothing accepted
is lost or doubled."""

from __future__ import annotations

import pytest

from tests.faults.conftest import assert_exactly_once, kill_and_wait_for_restart, prepare, traffic
from tests.support.stack import Stack, eventually

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

ORDER = ("intake", "referral", "keyperson", "notify", "gateway")


async def test_every_process_killed_in_turn_is_restarted_and_nothing_is_lost(
    stack: Stack,
) -> None:
    await prepare(stack)
    before = {name: c["pid"] for name, c in stack.processes()["children"].items()}
    async with traffic(stack, limit=1000) as t:  # flowing until every restart is seen
        for name in ORDER:
            new_pid = await kill_and_wait_for_restart(stack, name)
            assert new_pid != before[name]
            # Traffic through the restarted process: more webhooks answered, more referrals
            # accepted, after it came back.
            webhooks, referrals = len(t.sms) + len(t.calls), len(t.referrals)

            def answered_since(webhooks: int = webhooks, referrals: int = referrals) -> bool:
                return (len(t.sms) + len(t.calls) > webhooks + 2
                        and len(t.referrals) > referrals)

            await eventually(answered_since, timeout=60, interval=0.2,
                             what=f"traffic answered after {name} restarted")
    after = stack.processes()["children"]
    for name in ORDER:
        assert after[name]["pid"] != before[name], name
        assert after[name]["restarts"] >= 1, name
    await assert_exactly_once(stack, t)
