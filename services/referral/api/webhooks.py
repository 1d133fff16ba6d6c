"""Partners' webhooks: where status changes of their referrals are sent, signed."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import audit
from services.common.deps import ClockDep, PartnerDep, SessionDep
from services.common.errors import NotFound, invalid
from services.common.ids import new_id
from services.referral import repository, webhooks
from services.referral.api.common import org_of
from services.referral.models import AuditEntry, Webhook
from services.referral.schemas import WebhookCreate, WebhookCreated, WebhookRead

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated)
async def register_webhook(body: WebhookCreate, session: SessionDep, actor: PartnerDep,
                           clock: ClockDep) -> WebhookCreated:
    """Register an https URL to receive each status change of your organisation's referrals
    (routed, assigned, accepted, contacted, closed …) as a signed JSON POST. The `secret` is
    shown once: check `X-Livewell-Signature` (`sha256=` + hex HMAC-SHA256 of
    `<X-Livewell-Timestamp>.<body>`). Failed deliveries are retried with backoff."""
    problem = webhooks.check_url(body.url)
    if problem:
        raise invalid(["url"], problem)
    now = clock.now()
    hook = Webhook(id=new_id(), org=org_of(actor), url=body.url, secret=webhooks.new_secret(),
                   active=True, created_at=now)
    session.add(hook)
    audit(session, AuditEntry, actor, "create", "webhook", hook.id, now)
    await session.commit()
    webhooks.webhooks_changed(session)
    return WebhookCreated(id=hook.id, url=hook.url, created_at=now, secret=hook.secret)


@router.get("", response_model=list[WebhookRead])
async def list_webhooks(session: SessionDep, actor: PartnerDep) -> list[Webhook]:
    """Your organisation's webhooks (without their secrets)."""
    return list(await repository.active_webhooks(session, org_of(actor)))


async def _own(session: AsyncSession, org: str, webhook_id: str) -> Webhook:
    hook = await repository.get_webhook(session, webhook_id)
    if hook is None or hook.org != org or not hook.active:
        raise NotFound("webhook")
    return hook


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response)
async def delete_webhook(webhook_id: str, session: SessionDep, actor: PartnerDep,
                         clock: ClockDep) -> Response:
    """Stop sending to this webhook; deliveries still queued for it are dropped."""
    hook = await _own(session, org_of(actor), webhook_id)
    hook.active = False
    audit(session, AuditEntry, actor, "delete", "webhook", hook.id, clock.now())
    await session.commit()
    webhooks.webhooks_changed(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
