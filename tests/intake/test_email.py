"""Email in: the SendGrid webhook and the SMTP listener, one pipeline, one acknowledgement."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from services.intake import deps
from services.intake.mail_out import OutgoingEmail, RecordingEmailSender
from services.intake.models import Contact
from services.intake.settings import IntakeSettings
from tests.intake.conftest import outbox_settled
from tests.intake.fakes import FakePeers
from tests.support.service import ServiceHarness
from tests.support.twilio import free_port
from tests.support.waiting import eventually

HELP = "help@livingwell.example"
EMAIL = {"x-livewell-actor-kind": "email"}




def sender() -> str:
    return f"gp-{uuid.uuid4().hex[:8]}@surgery.example"


def message_id() -> str:
    return f"<{uuid.uuid4().hex}@surgery.example>"


def sendgrid(frm: str, subject: str, text: str, mid: str, **headers: str) -> dict[str, str]:
    head = "".join(f"{k}: {v}\n" for k, v in {"Message-ID": mid, **headers}.items())
    return {"from": f"Dr Surgery <{frm}>", "to": HELP, "subject": subject, "text": text,
            "headers": head, "envelope": f'{{"to":["{HELP}"],"from":"{frm}"}}',
            "charsets": '{"text":"UTF-8"}', "attachments": "0", "spam_score": "0.1"}


async def post_email(intake: ServiceHarness, form: dict[str, str]) -> dict[str, object]:
    resp = await intake.client.post("/email/inbound", files={k: (None, v) for k, v in form.items()},
                                    headers=EMAIL)
    assert resp.status_code == 200, resp.text
    body: dict[str, object] = resp.json()
    return body


async def acks(email_sender: RecordingEmailSender, *to: str) -> list[OutgoingEmail]:
    """Wait for an acknowledgement to each of `to` (earlier tests' leftovers are ignored)."""

    async def all_sent() -> list[OutgoingEmail] | None:
        mine = [m for m in email_sender.sent if m.to in to]
        return mine if {m.to for m in mine} >= set(to) else None

    return await eventually(all_sent, timeout=5, interval=0.02,
                            what=f"acknowledgements to {len(to)} senders")


async def contact_with(intake: ServiceHarness, external_id: str) -> list[Contact]:
    async with intake.kit.db.sessionmaker() as session:
        return list(await session.scalars(select(Contact)
                                          .where(Contact.external_id == external_id)))


async def test_an_email_becomes_a_contact_and_the_sender_gets_the_reference_once(
    intake: ServiceHarness, peers: FakePeers, email_sender: RecordingEmailSender,
) -> None:
    frm, mid = sender(), message_id()
    form = sendgrid(frm, "Referral for Mrs B (NHS 943 476 5919)", "Please see her soon.", mid)
    answers = await asyncio.gather(*(post_email(intake, form) for _ in range(4)))
    assert len({a["contact_id"] for a in answers}) == 1
    assert sorted(bool(a["duplicate"]) for a in answers) == [False, True, True, True]
    [contact] = await contact_with(intake, mid)
    assert contact.channel == "email" and contact.from_address == frm and contact.reference
    await acks(email_sender, frm)
    await outbox_settled(intake)
    [ack] = [m for m in email_sender.sent if m.to == frm]
    assert contact.reference in ack.subject and contact.reference in ack.body
    assert ack.in_reply_to == mid and ack.sender == HELP
    assert "Mrs B" not in ack.subject + ack.body and "943" not in ack.subject + ack.body
    [referral] = await peers.wait_for("/internal/referrals")
    assert referral.body["source"] == "email"


async def test_replies_thread_by_subject_reference_or_in_reply_to(
    intake: ServiceHarness, peers: FakePeers, email_sender: RecordingEmailSender,
) -> None:
    frm = sender()
    first = await post_email(intake, sendgrid(frm, "Worried", "about my son", message_id()))
    reference = str(first["reference"])
    by_subject = await post_email(intake, sendgrid(sender(), f"Re: {reference.lower()} update",
                                                   "more details", message_id()))
    assert by_subject["reference"] == reference
    [ack] = await acks(email_sender, frm)
    ack_id = ack.message_id
    by_header = await post_email(intake, sendgrid(sender(), "Re: your email", "thanks",
                                                  message_id(), **{"In-Reply-To": ack_id}))
    assert by_header["reference"] == reference
    await outbox_settled(intake)
    assert len(peers.sent("/internal/referrals")) == 1


async def test_automatic_replies_are_stored_but_never_answered(
    intake: ServiceHarness, email_sender: RecordingEmailSender,
) -> None:
    mid, frm = message_id(), sender()
    await post_email(intake, sendgrid(frm, "Out of office", "I am away", mid,
                                      **{"Auto-Submitted": "auto-replied"}))
    assert len(await contact_with(intake, mid)) == 1
    await outbox_settled(intake)
    assert [m for m in email_sender.sent if m.to == frm] == []


async def test_crisis_language_in_an_email_raises_an_emergency_and_an_alert(
    intake: ServiceHarness, peers: FakePeers,
) -> None:
    await post_email(intake, sendgrid(sender(), "help", "I am going to kill myself tonight",
                                      message_id()))
    [referral] = await peers.wait_for("/internal/referrals")
    assert referral.body["urgency"] == "emergency"
    await peers.wait_for("/internal/alerts")


async def test_malformed_and_oversized_email_is_refused_clearly(intake: ServiceHarness) -> None:
    broken = await intake.client.post(
        "/email/inbound", content=b"--xx\r\nContent-Disposition: form-data; name=\"from\"\r\n",
        headers={**EMAIL, "content-type": "multipart/form-data; boundary=xx"})
    assert broken.status_code == 400
    assert broken.headers["content-type"] == "application/problem+json"
    empty = await intake.client.post("/email/inbound", files={"subject": (None, "hi")},
                                     headers=EMAIL)
    assert empty.status_code == 400
    deps.of(intake.kit).config.email_max_bytes = 2048
    huge = await intake.client.post("/email/inbound", headers=EMAIL, files={
        "from": (None, sender()), "text": (None, "x" * 5000)})
    assert huge.status_code == 413


async def test_odd_encodings_and_raw_mime_are_stored_safely(intake: ServiceHarness) -> None:
    mid = message_id()
    raw = (f"From: =?iso-8859-1?q?Jos=E9?= <{sender()}>\r\nTo: {HELP}\r\n"
           f"Subject: =?bogus-charset?q?Caf=E9?=\r\nMessage-ID: {mid}\r\n"
           "Content-Type: text/plain; charset=x-unknown\r\n"
           "Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 =\r\nna\xefve \x00 body\r\n"
           ).encode("latin-1")
    result = await post_email(intake, {"email": raw.decode("latin-1"), "to": HELP})
    [contact] = await contact_with(intake, mid)
    assert contact.id == result["contact_id"] and "Caf" in (contact.body or "")
    assert "\x00" not in (contact.body or "")
    no_id = {"from": sender(), "subject": "no id", "text": "hello", "to": HELP}
    one, two = await post_email(intake, no_id), await post_email(intake, no_id)
    assert one["contact_id"] == two["contact_id"] and two["duplicate"]


class TestSmtpListener:
    @pytest.fixture
    def intake_config(self) -> IntakeSettings:
        return IntakeSettings(_env_file=None, smtp_listen_port=free_port(),  # type: ignore[call-arg]
                              email_max_bytes=64 * 1024)

    @staticmethod
    def send(port: int, msg: EmailMessage, rcpt: str = HELP) -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            return smtp.send_message(msg, to_addrs=[rcpt])

    async def test_mail_by_smtp_goes_through_the_same_pipeline(
        self, intake: ServiceHarness, intake_config: IntakeSettings,
        email_sender: RecordingEmailSender,
    ) -> None:
        port = intake_config.smtp_listen_port
        assert port is not None
        mid, frm = message_id(), sender()
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = frm, HELP, "Help", mid
        msg.set_content("Could someone call me about my mum? Zoë")
        await asyncio.to_thread(self.send, port, msg)
        await asyncio.to_thread(self.send, port, msg)  # the MX retries: still one contact
        [contact] = await contact_with(intake, mid)
        assert contact.body is not None and "Zoë" in contact.body and contact.reference
        await acks(email_sender, frm)
        await outbox_settled(intake)
        assert len([m for m in email_sender.sent if m.to == frm]) == 1

    async def test_other_recipients_and_oversized_mail_are_refused(
        self, intake: ServiceHarness, intake_config: IntakeSettings,
    ) -> None:
        port = intake_config.smtp_listen_port
        assert port is not None
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender(), HELP, "small"
        msg.set_content("hello")
        with pytest.raises(smtplib.SMTPRecipientsRefused) as wrong:
            await asyncio.to_thread(self.send, port, msg, "someone@elsewhere.example")
        assert wrong.value.recipients["someone@elsewhere.example"][0] == 550
        big = EmailMessage()
        big["From"], big["To"], big["Subject"] = sender(), HELP, "big"
        big.set_content("x" * (100 * 1024))
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            await asyncio.to_thread(self.send, port, big)
        assert refused.value.smtp_code == 552
