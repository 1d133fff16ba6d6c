"""Notify's own parts, built once in its lifespan and kept in `kit.own`: its settings, the
escalation policy, the SMS sender and voice caller, and the dispatcher that drains the
message table through them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.common.deps import kit_of, own_of
from services.common.kit import Kit
from services.common.settings import Settings
from services.notify.dispatcher import Dispatcher
from services.notify.policy import Policy
from services.notify.senders import DryRunSender, SmsSender, TwilioSender, VoiceCaller
from services.notify.settings import NotifyConfig

DRY_RUN_FILE = "dry-run/sms-and-calls.jsonl"


@dataclass
class Notify:
    """What notify's domain code needs at hand beside the session: the kit, its settings, the
    policy, the senders and the dispatcher."""

    kit: Kit
    config: NotifyConfig
    policy: Policy
    sms: SmsSender
    voice: VoiceCaller
    dispatcher: Dispatcher

    def callback_url(self, path: str = "") -> str:
        """A public URL under `/twilio/status` (the gateway checks the signature)."""
        return self.kit.settings.public_base_url.rstrip("/") + "/twilio/status" + path

    async def close(self) -> None:
        """Close the senders' connections to Twilio (at the end of the lifespan); one
        transport may be both, and is closed once."""
        senders: list[SmsSender | VoiceCaller] = [self.sms]
        if all(self.voice is not s for s in senders):
            senders.append(self.voice)
        for sender in senders:
            await sender.close()


def build_senders(settings: Settings, config: NotifyConfig) -> TwilioSender | DryRunSender:
    """The real Twilio transport when credentials are set, else the dry run under `var/`."""
    if settings.twilio_dry_run:
        return DryRunSender(settings.var_dir / DRY_RUN_FILE, settings.twilio_phone_number)
    assert settings.twilio_account_sid and settings.twilio_auth_token
    return TwilioSender(account_sid=settings.twilio_account_sid,
                        auth_token=settings.twilio_auth_token,
                        base_url=settings.twilio_api_base_url,
                        from_number=settings.twilio_phone_number,
                        status_callback=settings.public_base_url.rstrip("/") + "/twilio/status",
                        timeout=config.twilio_timeout_seconds)


def build(kit: Kit, config: NotifyConfig, policy: Policy) -> Notify:
    """Notify's parts; one transport is both the SMS sender and the voice caller."""
    sender = build_senders(kit.settings, config)
    dispatcher = Dispatcher(kit.db, kit.clock, config, sms=sender, voice=sender,
                            from_number=kit.settings.twilio_phone_number)
    return Notify(kit=kit, config=config, policy=policy, sms=sender, voice=sender,
                  dispatcher=dispatcher)


def of(kit: Kit) -> Notify:
    return own_of(kit, Notify)


async def get_notify(request: Request) -> Notify:
    return of(kit_of(request))


NotifyDep = Annotated[Notify, Depends(get_notify)]
