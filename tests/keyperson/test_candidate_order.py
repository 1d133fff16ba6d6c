"""The database's candidate order (one indexed query, first page only) is the ranking's."""

from __future__ import annotations

import random
from datetime import timedelta

from services.keyperson import assignment
from services.keyperson import repository as repo
from services.keyperson.ranking import Need, rank
from tests.keyperson.factories import STAFF, assign, request, shift, worker
from tests.support.service import ServiceHarness


async def test_the_sql_order_matches_the_ranking_rules_on_a_mixed_roster(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    rnd = random.Random(11)
    now = keyperson.kit.clock.now()
    ids = []
    for _ in range(30):
        w = await worker(c, localities=rnd.sample(["north", "south_west"], rnd.randint(0, 2)),
                         teams=rnd.sample(["hub", "ips_alliance"], rnd.randint(0, 2)),
                         skills=rnd.sample(["lang:pl", "lang:so"], rnd.randint(0, 2)),
                         max_caseload=rnd.randint(0, 4))
        ids.append(w["id"])
        if rnd.random() < 0.4:
            await shift(c, w["id"], "key_worker", now + timedelta(hours=rnd.randint(-2, 6)),
                        now + timedelta(hours=8))
    for _ in range(25):  # give some of them people, so headroom and fairness differ
        await assign(c, request(now, locality="north", team="ips_alliance", skills=["lang:so"]))
    for urgency in ("routine", "urgent"):
        need = Need("north", "hub", ("lang:pl",), urgency)
        respond_by = now + timedelta(hours=6)
        async with keyperson.kit.db.sessionmaker() as session:
            facts, _, _ = await assignment.gather(session, need, now, respond_by, everyone=True)
            expected = [x.keyworker_id for x in rank(need, facts).ordered]
            window = (now, respond_by) if need.needs_shift else None
            got = await repo.best_candidates(session, "north", "hub", ["lang:pl"],
                                             window=window, exclude=(), limit=None)
            first_page = await repo.best_candidates(session, "north", "hub", ["lang:pl"],
                                                    window=window, exclude=(), limit=5)
            tier = await repo.best_candidates(session, "north", "hub", ["lang:pl"],
                                              window=window, exclude=(), limit=None, both=True)
        both = [x.id for x in facts if "north" in x.localities and "hub" in x.teams
                and x.caseload < x.max_caseload]
        assert [w.id for w, _ in tier] == expected[:len(both)]
        assert sorted(w.id for w, _ in tier) == sorted(both)
        assert len(expected) >= 8 and [w.id for w, _ in got] == expected
        assert [w.id for w, _ in first_page] == expected[:5]
    assert (await c.get("/api/v1/keyworkers", headers=STAFF)).status_code == 200
