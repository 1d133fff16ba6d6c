"""What intake builds once in its lifespan (wording, crisis detector, email sender, the call
book) and the dependency that hands it to a route."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from services.common.deps import kit_of, own_of
from services.common.kit import Kit
from services.intake import ivr
from services.intake.callbook import CallBook
from services.intake.crisis import CrisisDetector
from services.intake.mail_out import EmailSender
from services.intake.settings import IntakeSettings
from services.intake.wording import CrisisPhraseList, IvrScript, Replies, load


@dataclass
class Intake:
    """Intake's own parts, beside the shared kit."""

    kit: Kit
    config: IntakeSettings
    script: IvrScript
    replies: Replies
    crisis: CrisisDetector
    email_sender: EmailSender
    calls: CallBook
    # The first answer's TwiML, one per menu shape: built from the script, which does not
    # change while the service runs, so keeping it changes nothing a caller hears.
    _greetings: dict[bool, str] = field(default_factory=dict)

    def greeting(self, *, offer_key_worker: bool) -> str:
        """The first answer's TwiML: the same for every call, so built once each way."""
        text = self._greetings.get(offer_key_worker)
        if text is None:
            urls = ivr.Urls(self.kit.settings.public_base_url)
            text = str(ivr.menu(self.script, urls, attempt=1, offer_key_worker=offer_key_worker))
            self._greetings[offer_key_worker] = text
        return text


def build(kit: Kit, config: IntakeSettings, email_sender: EmailSender) -> Intake:
    """Read and check the wording files (a mistake stops start-up with the file named)."""
    return Intake(kit=kit, config=config,
                  script=load(config.ivr_file, IvrScript),
                  replies=load(config.replies_file, Replies),
                  crisis=CrisisDetector(load(config.crisis_phrases_file, CrisisPhraseList)),
                  email_sender=email_sender, calls=CallBook(kit.db))


def of(kit: Kit) -> Intake:
    return own_of(kit, Intake)


async def get_intake(request: Request) -> Intake:
    return of(kit_of(request))


IntakeDep = Annotated[Intake, Depends(get_intake)]
