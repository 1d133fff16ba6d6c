"""What notify's domain code needs at hand: the kit, its config, the policy and the senders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from services.common.kit import Kit
from services.notify.config import NotifyConfig
from services.notify.policy import Policy
from services.notify.senders import SmsSender, VoiceCaller


@dataclass
class Notify:
    """Built once in the service's set-up, kept in `kit.extras["notify"]`."""

    kit: Kit
    config: NotifyConfig
    policy: Policy
    sms: SmsSender
    voice: VoiceCaller

    def callback_url(self, path: str = "") -> str:
        """A public URL under `/twilio/status` (the gateway checks the signature)."""
        return self.kit.settings.public_base_url.rstrip("/") + "/twilio/status" + path


async def get_notify(request: Request) -> Notify:
    return cast(Notify, request.app.state.kit.extras["notify"])


NotifyDep = Annotated[Notify, Depends(get_notify)]
