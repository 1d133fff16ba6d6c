"""The ranking rules as a table, and as properties that hold for any roster."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.keyperson.ranking import Need, WorkerFacts, exclusion, rank, sort_key

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def w(id: str, **kw: object) -> WorkerFacts:
    base: dict[str, object] = {"localities": ("south_west",), "teams": ("hub",), "skills": (),
                               "caseload": 5, "max_caseload": 20}
    base.update(kw)
    return WorkerFacts(id=id, **base)  # type: ignore[arg-type]


NEED = Need("south_west", "hub", (), "routine")

# Each row: what the referral needs, two workers, who must rank first, and why.
TABLE = [
    ("continuity beats everything", dataclasses.replace(NEED, key_worker_id="b"),
     w("a", caseload=0), w("b", teams=(), caseload=19), "b"),
    ("continuity skipped when the key worker is absent", dataclasses.replace(
        NEED, key_worker_id="b"), w("a"), w("b", absent=True), "a"),
    ("continuity skipped when the key worker is full", dataclasses.replace(
        NEED, key_worker_id="b"), w("a"), w("b", caseload=20), "a"),
    ("locality and team beat locality alone", NEED, w("a", teams=(), caseload=0), w("b"), "b"),
    ("team alone is enough to be considered", NEED, w("a", localities=("north",)),
     w("b", localities=("north",), teams=("x",)), "a"),
    ("required language beats headroom", dataclasses.replace(NEED, skills=("lang:pl",)),
     w("a", caseload=0), w("b", skills=("lang:pl",), caseload=15), "b"),
    ("on shift in the window beats headroom when urgent", dataclasses.replace(
        NEED, urgency="very_urgent"), w("a", caseload=0), w("b", on_shift_in_window=True), "b"),
    ("on shift does not matter for routine", NEED, w("a", caseload=0),
     w("b", on_shift_in_window=True), "a"),
    ("more headroom wins", NEED, w("a", caseload=6), w("b", caseload=5), "b"),
    ("headroom is absolute, not a ratio", NEED, w("a", caseload=1, max_caseload=3),
     w("b", caseload=10, max_caseload=20), "b"),
    ("fairness: least recently given a new person", NEED,
     w("a", last_assigned_at=T0), w("b", last_assigned_at=T0 - timedelta(days=1)), "b"),
    ("fairness: never assigned goes first", NEED, w("a", last_assigned_at=T0), w("b"), "b"),
    ("declined this referral is left out", dataclasses.replace(NEED, declined=frozenset("a")),
     w("a", caseload=0), w("b"), "b"),
    ("inactive is left out", NEED, w("a", active=False, caseload=0), w("b"), "b"),
]


@pytest.mark.parametrize(("need", "first", "second", "winner"),
                         [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_ranking_table(need: Need, first: WorkerFacts, second: WorkerFacts,
                       winner: str) -> None:
    for order in ([first, second], [second, first]):
        assert rank(need, order).ordered[0].keyworker_id == winner


def test_a_worker_serving_neither_locality_nor_team_is_excluded_with_the_reason() -> None:
    ranking = rank(NEED, [w("a", localities=("north",), teams=("x",))])
    assert ranking.ordered == []
    assert ranking.excluded == {"a": "serves neither the locality nor the team"}


def test_the_explanation_says_why_continuity_was_not_possible() -> None:
    need = dataclasses.replace(NEED, key_worker_id="k")
    ranking = rank(need, [w("k", absent=True), w("a")])
    assert ranking.reasons == ["continuity not possible: the key worker is absent"]


# --- properties --------------------------------------------------------------------------

LOCS = ("north", "south_west", "south_east")
workers_st = st.lists(st.builds(
    WorkerFacts,
    id=st.uuids().map(str),
    localities=st.lists(st.sampled_from(LOCS), max_size=2).map(tuple),
    teams=st.lists(st.sampled_from(("hub", "youth")), max_size=2).map(tuple),
    skills=st.lists(st.sampled_from(("lang:pl", "lang:so", "complex_needs")),
                    max_size=3).map(tuple),
    caseload=st.integers(0, 6), max_caseload=st.integers(0, 6), active=st.booleans(),
    absent=st.booleans(), on_shift_in_window=st.booleans(),
    last_assigned_at=st.none() | st.integers(0, 100).map(lambda h: T0 + timedelta(hours=h)),
), max_size=12, unique_by=lambda x: x.id)
need_st = st.builds(Need, locality=st.sampled_from(LOCS), team=st.sampled_from(("hub", None)),
                    skills=st.lists(st.sampled_from(("lang:pl", "complex_needs")),
                                    max_size=2).map(tuple),
                    urgency=st.sampled_from(("emergency", "very_urgent", "urgent", "routine")))


@settings(max_examples=120, deadline=None)
@given(workers=workers_st, need=need_st, pick=st.integers(-1, 12))
def test_only_eligible_workers_are_ranked_and_the_order_is_deterministic(
    workers: list[WorkerFacts], need: Need, pick: int,
) -> None:
    if 0 <= pick < len(workers):
        need = dataclasses.replace(need, key_worker_id=workers[pick].id)
    ranking = rank(need, workers)
    ids = [c.keyworker_id for c in ranking.ordered]
    assert sorted(ids + list(ranking.excluded)) == sorted(x.id for x in workers)
    by_id = {x.id: x for x in workers}
    for c in ranking.ordered:
        facts = by_id[c.keyworker_id]
        assert exclusion(facts, need) is None
        assert facts.active and not facts.absent and facts.caseload < facts.max_caseload
    key_worker = by_id.get(need.key_worker_id or "")
    if key_worker is not None and exclusion(key_worker, need) is None:
        assert ids[0] == key_worker.id
    keys = [sort_key(c) for c in ranking.ordered]
    assert keys == sorted(keys)
    shuffled = list(workers)
    random.Random(7).shuffle(shuffled)
    assert [c.keyworker_id for c in rank(need, shuffled).ordered] == ids


@settings(max_examples=80, deadline=None)
@given(workers=workers_st, need=need_st, n=st.integers(0, 40))
def test_repeated_assignment_never_exceeds_a_maximum_and_uses_all_headroom(
    workers: list[WorkerFacts], need: Need, n: int,
) -> None:
    roster = {x.id: x for x in workers}
    headroom = sum(max(x.max_caseload - x.caseload, 0) for x in workers
                   if exclusion(x, need) is None)
    given_out = 0
    for _ in range(n):
        ranking = rank(need, roster.values())
        if not ranking.ordered:
            break
        chosen = roster[ranking.ordered[0].keyworker_id]
        roster[chosen.id] = dataclasses.replace(chosen, caseload=chosen.caseload + 1,
                                                last_assigned_at=T0 + timedelta(days=given_out))
        given_out += 1
    assert given_out == min(n, headroom)
    for before in workers:
        after = roster[before.id]
        assert after.caseload == before.caseload or after.caseload <= after.max_caseload
