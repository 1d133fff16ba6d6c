"""The duty rota across the Europe/London clock changes; on duty now; uncovered hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.keyperson.factories import STAFF, shift, worker
from tests.support.service import ServiceHarness


def travel_to(harness: ServiceHarness, moment: datetime) -> None:
    """Move the service's clock forward to `moment`."""
    harness.kit.clock.advance((moment - harness.kit.clock.now()).total_seconds())


async def post_shift(harness: ServiceHarness, keyworker_id: str, starts: str, ends: str,
                     **fields: object) -> tuple[int, dict[str, object]]:
    resp = await harness.client.post("/api/v1/rota/shifts", headers=STAFF, json={
        "keyworker_id": keyworker_id, "role": "crisis_duty", "starts_at": starts,
        "ends_at": ends, **fields})
    return resp.status_code, resp.json()


async def test_a_night_over_the_spring_change_is_seven_hours_stored_in_utc(
    keyperson: ServiceHarness,
) -> None:
    w = await worker(keyperson.client)
    code, s = await post_shift(keyperson, w["id"], "2027-03-28T00:00", "2027-03-28T08:00")
    assert code == 201, s
    assert s["starts_at"] == "2027-03-28T00:00:00Z" and s["ends_at"] == "2027-03-28T07:00:00Z"
    assert s["hours"] == 7.0
    assert s["starts_local"] == "2027-03-28T00:00:00Z"
    assert s["ends_local"] == "2027-03-28T08:00:00+01:00"


async def test_a_night_over_the_autumn_change_is_nine_hours(keyperson: ServiceHarness) -> None:
    w = await worker(keyperson.client)
    code, s = await post_shift(keyperson, w["id"], "2027-10-31T00:00", "2027-10-31T08:00")
    assert code == 201, s
    assert s["starts_at"] == "2027-10-30T23:00:00Z" and s["ends_at"] == "2027-10-31T08:00:00Z"
    assert s["hours"] == 9.0


async def test_offsets_are_taken_as_given_and_a_skipped_local_time_is_refused(
    keyperson: ServiceHarness,
) -> None:
    w = await worker(keyperson.client)
    code, s = await post_shift(keyperson, w["id"], "2027-03-28T02:30:00+01:00",
                               "2027-03-28T10:00:00+01:00")
    assert code == 201 and s["starts_at"] == "2027-03-28T01:30:00Z"
    code, problem = await post_shift(keyperson, w["id"], "2027-03-28T01:30", "2027-03-28T09:00")
    assert code == 422 and problem["errors"][0]["loc"] == ["starts_at"]  # type: ignore[index]
    code, _ = await post_shift(keyperson, w["id"], "2027-03-28T09:00", "2027-03-28T08:00")
    assert code == 422


async def test_on_duty_follows_real_time_through_the_spring_change(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    w = await worker(c)
    await post_shift(keyperson, w["id"], "2027-03-28T00:00", "2027-03-28T08:00")
    travel_to(keyperson, datetime(2027, 3, 28, 1, 30, tzinfo=UTC))   # 02:30 BST: on duty
    on = (await c.get("/api/v1/rota/on-duty?role=crisis_duty", headers=STAFF)).json()
    assert [e["keyworker_id"] for e in on] == [w["id"]]
    numbers = (await c.get("/internal/rota/on-duty?role=crisis_duty")).json()["numbers"]
    assert numbers == [w["phone"]]
    travel_to(keyperson, datetime(2027, 3, 28, 7, 30, tzinfo=UTC))   # 08:30 BST: off
    assert (await c.get("/internal/rota/on-duty?role=crisis_duty")).json()["numbers"] == []


async def test_dial_order_puts_the_locality_first_then_borough_wide_then_escalation(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    now = keyperson.kit.clock.now()
    start, end = now - timedelta(hours=1), now + timedelta(hours=4)
    other = await worker(c, name="Other locality")
    borough = await worker(c, name="Borough-wide")
    local = await worker(c, name="South west")
    coordinator = await worker(c, name="Coordinator")
    manager = await worker(c, name="Manager")
    away = await worker(c, name="Away")
    await shift(c, other["id"], "crisis_duty", start - timedelta(hours=1), end,
                locality="north")
    await shift(c, borough["id"], "crisis_duty", start, end)
    await shift(c, local["id"], "crisis_duty", start, end, locality="south_west")
    await shift(c, coordinator["id"], "duty_coordinator", start, end)
    await shift(c, manager["id"], "backup_manager", start, end)
    await shift(c, away["id"], "crisis_duty", start - timedelta(hours=2), end,
                locality="south_west")
    resp = await c.post(f"/api/v1/keyworkers/{away['id']}/absences", headers=STAFF, json={
        "starts_at": start.isoformat(), "ends_at": end.isoformat()})
    assert resp.status_code == 201
    numbers = (await c.get("/internal/rota/on-duty?role=crisis_duty&locality=south_west")
               ).json()["numbers"]
    assert numbers == [local["phone"], borough["phone"], other["phone"], coordinator["phone"],
                       manager["phone"]]
    only = (await c.get("/internal/rota/on-duty?role=crisis_duty&fallback=false"
                        "&locality=north")).json()["numbers"]
    assert only == [other["phone"], borough["phone"], local["phone"]]


async def test_uncovered_hours_in_the_next_seven_days_count_real_hours_and_absences(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    travel_to(keyperson, datetime(2027, 3, 27, 12, 0, tzinfo=UTC))
    night, day = await worker(c), await worker(c)
    await post_shift(keyperson, night["id"], "2027-03-27T20:00", "2027-03-28T08:00",
                     locality="north")                                  # 11 real hours
    await post_shift(keyperson, day["id"], "2027-03-28T08:00", "2027-03-28T20:00")  # 12 hours
    resp = await c.get("/api/v1/rota/gaps?role=crisis_duty&locality=north", headers=STAFF)
    (north,) = resp.json()
    assert north["uncovered_hours"] == 168 - 23
    assert [(g["starts_at"], g["ends_at"]) for g in north["gaps"]] == [
        ("2027-03-27T12:00:00Z", "2027-03-27T20:00:00Z"),
        ("2027-03-28T19:00:00Z", "2027-04-03T12:00:00Z")]
    await c.post(f"/api/v1/keyworkers/{day['id']}/absences", headers=STAFF, json={
        "starts_at": "2027-03-28T10:00", "ends_at": "2027-03-28T12:00"})
    report = (await c.get("/api/v1/rota/gaps?role=crisis_duty", headers=STAFF)).json()
    hours = {r["locality"]: r["uncovered_hours"] for r in report}
    assert hours == {"north": 168 - 21, "south_west": 168 - 10, "south_east": 168 - 10}
    assert len((await c.get("/api/v1/rota/gaps", headers=STAFF)).json()) == 9


async def test_shifts_are_listed_by_window_and_a_removed_shift_no_longer_covers(
    keyperson: ServiceHarness,
) -> None:
    c = keyperson.client
    w = await worker(c)
    now = keyperson.kit.clock.now()
    s = await shift(c, w["id"], "duty_coordinator", now - timedelta(hours=1),
                    now + timedelta(hours=2))
    later = await shift(c, w["id"], "duty_coordinator", now + timedelta(days=10),
                        now + timedelta(days=10, hours=8))
    listed = (await c.get("/api/v1/rota/shifts?role=duty_coordinator", headers=STAFF)).json()
    assert [x["id"] for x in listed] == [s["id"]]
    start, end = (now + timedelta(days=9)).date(), (now + timedelta(days=11)).date()
    window = f"from={start}T00:00&to={end}T00:00"
    assert [x["id"] for x in (await c.get(f"/api/v1/rota/shifts?{window}",
                                          headers=STAFF)).json()] == [later["id"]]
    numbers = (await c.get("/internal/rota/on-duty?role=duty_coordinator")).json()["numbers"]
    assert numbers == [w["phone"]]
    assert (await c.delete(f"/api/v1/rota/shifts/{s['id']}", headers=STAFF)).status_code == 204
    assert (await c.get("/internal/rota/on-duty?role=duty_coordinator")).json()["numbers"] == []
    too_long = await c.get("/api/v1/rota/shifts?from=2027-01-01T00:00&to=2027-03-01T00:00",
                           headers=STAFF)
    assert too_long.status_code == 422
