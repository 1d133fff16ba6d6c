"""The rota week for the desk: shifts with names and the week's gaps, a shift added (London
wall time) and removed with the staff API's rules; coordinators and admins only."""

from __future__ import annotations

from sqlalchemy import func, select

from services.keyperson.models import Shift
from tests.board.people import refused_everyone_but_coordinators, signed_in
from tests.keyperson.factories import worker
from tests.support.service import ServiceHarness

ROTA = "/api/v1/desk/rota"


async def test_a_shift_added_and_removed_in_the_week(keyperson: ServiceHarness) -> None:
    dana = await worker(keyperson.client, name="Dana Duty")
    day = keyperson.kit.clock.now().date().isoformat()
    added = await keyperson.client.post(f"{ROTA}/shifts", headers=signed_in("coordinator"),
                                        json={"keyworker_id": dana["id"],
                                              "role": "duty_coordinator", "locality": "north",
                                              "starts_at": "2030-06-03T09:00",
                                              "ends_at": "2030-06-03T17:00"})
    assert added.status_code == 201, added.text
    assert added.json()["starts_at"].startswith("2030-06-03T08:00")  # BST
    week = await keyperson.client.get(ROTA, params={"from": "2030-06-01"},
                                      headers=signed_in("admin"))
    assert week.status_code == 200, week.text
    [shift] = week.json()["shifts"]
    assert shift["name"] == "Dana Duty" and week.json()["starts"] == "2030-06-01"
    north = [g for g in week.json()["gaps"]
             if g["role"] == "duty_coordinator" and g["locality"] == "north"]
    assert [(g["starts_local"][:16], g["ends_local"][:16]) for g in north] == [
        ("2030-06-01T00:00", "2030-06-03T09:00"), ("2030-06-03T17:00", "2030-06-08T00:00")]
    assert (await keyperson.client.get(ROTA, headers=signed_in("coordinator"))
            ).json()["starts"] == day
    removed = await keyperson.client.delete(f"{ROTA}/shifts/{shift['id']}",
                                            headers=signed_in("coordinator"))
    assert removed.status_code == 204
    again = await keyperson.client.get(ROTA, params={"from": "2030-06-01"},
                                       headers=signed_in("admin"))
    assert again.json()["shifts"] == []


async def test_a_bad_shift_is_a_422_naming_the_field_and_adds_nothing(
    keyperson: ServiceHarness,
) -> None:
    dana = await worker(keyperson.client)
    base = {"keyworker_id": dana["id"], "role": "duty_coordinator",
            "starts_at": "2030-06-03T09:00", "ends_at": "2030-06-03T17:00"}
    for change, field in (({"keyworker_id": "nobody"}, "keyworker_id"),
                          ({"locality": "atlantis"}, "locality"),
                          ({"role": "captain"}, "role"),
                          ({"ends_at": "2030-06-03T08:00"}, "ends_at")):
        resp = await keyperson.client.post(f"{ROTA}/shifts", json={**base, **change},
                                           headers=signed_in("coordinator"))
        assert resp.status_code == 422, (change, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert field in resp.text or "ends_at must be after" in resp.text
    async with keyperson.kit.db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Shift)) == 0


async def test_key_workers_and_keys_get_403(keyperson: ServiceHarness) -> None:
    dana = await worker(keyperson.client)
    body = {"keyworker_id": dana["id"], "role": "duty_coordinator",
            "starts_at": "2030-06-03T09:00", "ends_at": "2030-06-03T17:00"}
    for headers in refused_everyone_but_coordinators():
        assert (await keyperson.client.get(ROTA, headers=headers)).status_code == 403
        assert (await keyperson.client.post(f"{ROTA}/shifts", json=body,
                                            headers=headers)).status_code == 403
        assert (await keyperson.client.delete(f"{ROTA}/shifts/x",
                                              headers=headers)).status_code == 403
