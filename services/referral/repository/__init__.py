"""Every query of the referral service, by concept (no commits: the request or the outbox
handler owns the transaction):

- `referrals`: referrals and their timelines, the desk's, the board's and the SLA lists;
- `notes`: what is written on a referral (information, attempts, plans, outreach visits) and
  the outreach list built from it;
- `idempotency`: the partner API's Idempotency-Key records;
- `webhooks`: partners' webhooks.

They are re-exported here, so that domain modules read `repository.<query>` from one place.
"""

from services.referral.repository.idempotency import (
    claim_idempotency_key,
    get_idempotent,
)
from services.referral.repository.notes import (
    get_note,
    notes,
    notes_of_kinds,
    unreached,
)
from services.referral.repository.referrals import (
    AWAITING_ACCEPTANCE,
    awaiting_counts,
    awaiting_soonest_due,
    get_by_reference,
    get_referral,
    get_referral_for_update,
    get_visible,
    holds_person,
    list_referrals,
    open_held,
    others_of_person,
    sla_list,
    timelines,
)
from services.referral.repository.webhooks import (
    active_webhooks,
    get_webhook,
    orgs_with_webhooks,
)

__all__ = [
    "AWAITING_ACCEPTANCE", "active_webhooks", "awaiting_counts", "awaiting_soonest_due",
    "claim_idempotency_key", "get_by_reference", "get_idempotent", "get_note", "get_referral",
    "get_referral_for_update", "get_visible", "get_webhook", "holds_person", "list_referrals",
    "notes", "notes_of_kinds", "open_held", "orgs_with_webhooks", "others_of_person", "sla_list",
    "timelines", "unreached",
]
