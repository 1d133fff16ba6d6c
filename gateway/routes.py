"""Which service owns which public path, and how each kind of caller authenticates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.common.settings import ServiceName

# "session": a person signed in to the desk (gateway/identity). "public": the website, open to
# anyone without sign-in, limited per source address.
Auth = Literal["twilio", "email", "key", "session", "public"]


@dataclass(frozen=True, slots=True)
class Route:
    prefix: str
    service: ServiceName
    auth: Auth

    def matches(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")


# Answered by the gateway itself (gateway/reports.py): the monthly figures span all services.
REPORT_PATH = "/api/v1/reports/monthly"

ROUTES: tuple[Route, ...] = (
    Route("/twilio/voice", "intake", "twilio"),
    Route("/twilio/sms", "intake", "twilio"),
    Route("/twilio/status", "notify", "twilio"),
    Route("/email/inbound", "intake", "email"),
    Route("/api/v1/referrals", "referral", "key"),
    Route("/api/v1/routing", "referral", "key"),
    Route("/api/v1/sla", "referral", "key"),
    Route("/api/v1/webhooks", "referral", "key"),
    Route("/fhir", "referral", "key"),
    Route("/api/v1/keyworkers", "keyperson", "key"),
    Route("/api/v1/rota", "keyperson", "key"),
    Route("/api/v1/assignments", "keyperson", "key"),
    Route("/api/v1/callbacks", "intake", "key"),
    Route("/api/v1/people", "intake", "key"),
    Route("/api/v1/contacts", "intake", "key"),
    Route("/api/v1/handoffs", "notify", "key"),
    Route("/api/v1/alerts", "notify", "key"),
    Route("/desk", "desk", "session"),
    # The network directory: read-only Open Referral UK, open like the website; edits need a key.
    Route("/openreferral", "referral", "public"),
    Route("/api/v1/directory", "referral", "key"),
    # The public website (services/site); "/" matches the home page only.
    *(Route(prefix, "site", "public") for prefix in (
        "/", "/advice", "/self-assessment", "/contact", "/help", "/accessibility", "/privacy",
        "/lang", "/static/site")),
)


def match(path: str) -> Route | None:
    """The route that owns `path`; None for anything not public (including `/internal/…`)."""
    for route in ROUTES:
        if route.matches(path):
            return route
    return None
