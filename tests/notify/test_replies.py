"""Reply codes are bound to one worker's number and one handoff; strangers are not swallowed."""

from __future__ import annotations

from tests.notify.conftest import Expectations, NotifyHarness, mobile


async def test_a_code_from_another_number_is_not_honoured(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker, other_worker = mobile(), mobile()
    expect.expect_sms(worker, "ACCEPT")
    expect.expect_sms(other_worker, "ACCEPT")
    offered = await notify.offer(worker)
    await notify.offer(other_worker)
    await notify.settle()
    h = await notify.handoff(offered["handoff_id"])
    out = await notify.client.post("/internal/replies",
                                   json={"from": other_worker, "body": f"ACCEPT {h.reply_code}"})
    assert out.json()["handled"] is True and "reply ACCEPT or DECLINE" in out.json()["reply"]
    assert (await notify.handoff(h.id)).status == "open"


async def test_a_person_texting_the_line_is_not_taken_for_a_worker(
    notify: NotifyHarness,
) -> None:
    out = await notify.client.post("/internal/replies",
                                   json={"from": mobile(), "body": "I accept I need help"})
    assert out.json() == {"handled": False, "reply": None}


async def test_a_second_accept_after_someone_else_took_it_is_already_taken(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    first, second = mobile(), mobile()
    expect.expect_sms(first, "ACCEPT")
    expect.expect_sms(second, "ACCEPT")
    a = await notify.offer(first)
    await notify.settle()
    await notify.advance(900)  # nobody answered: offered to the next worker
    b = await notify.offer(second, n=2, referral_id=a["referral_id"])
    await notify.settle()
    hb = await notify.handoff(b["handoff_id"])
    ok = await notify.client.post("/internal/replies",
                                  json={"from": second, "body": f"accept {hb.reply_code}"})
    assert ok.json()["reply"].startswith("Accepted")
    ha = await notify.handoff(a["handoff_id"])
    late = await notify.client.post("/internal/replies",
                                    json={"from": first, "body": f"ACCEPT {ha.reply_code}"})
    assert "already been taken" in late.json()["reply"]
    expect.expect_call(first)  # the +10 min call to the first worker went out meanwhile


async def test_help_replies_are_rate_limited_so_two_machines_cannot_loop(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    expect.expect_sms(worker, "ACCEPT")
    await notify.offer(worker)
    await notify.settle()
    answers = [(await notify.client.post("/internal/replies", json={
        "from": worker, "body": "Auto-reply: I am out of the office"})).json()
        for _ in range(6)]
    assert all(a["handled"] for a in answers)
    assert [a["reply"] is not None for a in answers] == [True, True, True, False, False, False]


async def test_the_same_message_sid_asked_twice_is_applied_once(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    worker = mobile()
    expect.expect_sms(worker, "ACCEPT")
    offered = await notify.offer(worker)
    await notify.settle()
    h = await notify.handoff(offered["handoff_id"])
    ask = {"from": worker, "body": f"ACCEPT {h.reply_code}", "message_sid": "SM" + "a" * 32}
    first = (await notify.client.post("/internal/replies", json=ask)).json()
    second = (await notify.client.post("/internal/replies", json=ask)).json()
    assert first == second and first["reply"].startswith("Accepted")
    await notify.settle()
    assert len(notify.peers.to("/accepted")) == 1


async def test_a_person_gets_one_confirmation_per_message_key_with_no_personal_data(
    notify: NotifyHarness, expect: Expectations,
) -> None:
    person = mobile()
    expect.expect_sms(person, "LW-7K3M-Q9XA")
    body = {"message_key": f"{person}:caller_confirmation", "to": person,
            "template": "caller_confirmation", "reference": "LW-7K3M-Q9XA",
            "respond_by": "2026-11-22T18:40:00Z"}
    ids = {(await notify.client.post("/internal/person-messages", json=body)).json()[
        "message_id"] for _ in range(2)}
    assert len(ids) == 1
    await notify.settle()
    [sms] = await notify.twilio.messages(person)
    assert "999" in sms["body"] and person not in sms["body"]
