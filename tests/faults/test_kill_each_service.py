"""`kill -9` each of the five processes in turn while calls, texts and referrals keep coming:
the supervisor brings each back (a new pid in `var/run/processes.json`) and nothing accepted
is lost or doubled."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.conftest import assert_exactly_once, kill_and_wait_for_restart, prepare, traffic
from tests.support.stack import Stack

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

ORDER = ("intake", "referral", "keyperson", "notify", "gateway")


async def test_every_process_killed_in_turn_is_restarted_and_nothing_is_lost(
    stack: Stack,
) -> None:
    await prepare(stack)
    before = {name: c["pid"] for name, c in stack.processes()["children"].items()}
    async with traffic(stack) as t:
        for name in ORDER:
            new_pid = await kill_and_wait_for_restart(stack, name)
            assert new_pid != before[name]
            await asyncio.sleep(1.5)  # traffic through the restarted process
    after = stack.processes()["children"]
    for name in ORDER:
        assert after[name]["pid"] != before[name], name
        assert after[name]["restarts"] >= 1, name
    await assert_exactly_once(stack, t)
