"""Partners' webhooks: where status changes of their referrals are sent, signed."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from services.common.audit import audit
from services.common.deps import ClockDep, PartnerDep, SessionDep
from services.common.errors import invalid
from services.referral import repository, webhooks
from services.referral.api.common import org_of
from services.referral.deps import ReferralDep
from services.referral.models import AuditEntry, Webhook
from services.referral.schemas import WebhookCreate, WebhookCreated, WebhookRead

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated)
async def register_webhook(body: WebhookCreate, session: SessionDep, actor: PartnerDep,
                           clock: ClockDep, own: ReferralDep) -> WebhookCreated:
    """Register an https URL to receive each status change of your organisation's referrals
    (routed, assigned, accepted, contacted, closed …) as a signed JSON POST. The `secret` is
    shown once: check `X-Livewell-Signature` (`sha256=` + hex HMAC-SHA256 of
    `<X-Livewell-Timestamp>.<body>`). Failed deliveries are retried with backoff."""
    problem = webhooks.check_url(body.url)
    if problem:
        raise invalid(["url"], problem)
    now = clock.now()
    hook = webhooks.register(session, own.announcer, org=org_of(actor), url=body.url, now=now)
    audit(session, AuditEntry, actor, "create", "webhook", hook.id, now)
    return WebhookCreated(id=hook.id, url=hook.url, created_at=now, secret=hook.secret)


@router.get("", response_model=list[WebhookRead])
async def list_webhooks(session: SessionDep, actor: PartnerDep) -> list[Webhook]:
    """Your organisation's webhooks (without their secrets)."""
    return list(await repository.active_webhooks(session, org_of(actor)))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response)
async def delete_webhook(webhook_id: str, session: SessionDep, actor: PartnerDep,
                         clock: ClockDep, own: ReferralDep) -> Response:
    """Stop sending to this webhook; deliveries still queued for it are dropped."""
    hook = await webhooks.own_webhook(session, org_of(actor), webhook_id)
    webhooks.remove(session, own.announcer, hook)
    audit(session, AuditEntry, actor, "delete", "webhook", hook.id, clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
