"""`livewell report`: the month's figures from the four services, as a table, JSON or CSV,
and with `--publish` under NHS disclosure control, fit to leave the organisation."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping
from typing import Any

from services.common.clock import Clock
from services.common.figures import Month, as_csv, publishable, rows
from services.common.figures_api import FiguresUnavailable, gather
from services.common.http import ServiceClient
from services.common.settings import Settings

LABELS = {
    "people_supported": "People supported", "people_new": "People new this month",
    "contacts": "Contacts", "referrals": "Referrals", "referrals.by_source": "Referrals by source",
    "referrals.by_urgency": "Referrals by urgency",
    "referrals.by_locality": "Referrals by locality",
    "time_to_contact_hours": "Hours from referral to contact",
    "closed_by_outcome": "Referrals closed, by outcome", "handoffs": "Handoffs",
    "continuity": "Continuity", "crisis_calls": "Crisis calls", "signposted": "Signposted",
    "outreach_visits": "Outreach visits given",
    "outreach_visits.by_outcome": "Outreach visits, by outcome recorded",
}


def add_parser(sub: Any) -> None:
    """`report` under the `livewell` command."""
    p = sub.add_parser("report", help="the monthly figures (people supported, contacts, "
                                      "referrals, time to contact, respond-by, handoffs)")
    p.add_argument("--month", help="YYYY-MM, a Europe/London calendar month "
                                   "(default: this month)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object, as the API gives")
    out.add_argument("--csv", action="store_true", help="measure,breakdown,value rows")
    p.add_argument("--publish", action="store_true",
                   help="NHS disclosure control: counts 1-7 as *, others rounded to 5, "
                        "medians and percentages over fewer than 8 people suppressed")
    p.set_defaults(func=cmd_report)


def _label(measure: str) -> str:
    if measure.startswith("respond_by."):
        return f"Respond-by, {measure.split('.', 1)[1]}"
    return LABELS.get(measure, measure)


def as_table(figures: Mapping[str, Any]) -> str:
    """A readable table: one line per figure, grouped under its measure."""
    lines = [f"Monthly figures for {figures['month']} (Europe/London calendar month)"]
    if "disclosure_control" in figures:
        lines.append(f"For publication: {figures['disclosure_control']}")
    lines.append("")
    previous = None
    for measure, breakdown, value in rows(figures):
        label = _label(measure) if measure != previous else ""
        previous = measure
        lines.append(f"{label:<34} {breakdown.replace('_', ' '):<32} {value or '-':>8}")
    return "\n".join(lines) + "\n"


def render(figures: Mapping[str, Any], *, as_json: bool, as_rows: bool) -> str:
    if as_json:
        return json.dumps(figures, ensure_ascii=False) + "\n"
    return as_csv(figures) if as_rows else as_table(figures)


async def report(args: argparse.Namespace) -> int:
    settings = Settings()
    try:
        month = Month.parse(args.month) if args.month else Month.of(Clock().now())
    except ValueError as exc:
        print(f"livewell report: --month: {exc}", file=sys.stderr)
        return 2
    client = ServiceClient(settings, timeout=60)
    await client.start()
    try:
        figures = await gather(client, month)
    except FiguresUnavailable as exc:
        print(f"livewell report: {exc}; is the system running (`livewell run`)?",
              file=sys.stderr)
        return 1
    finally:
        await client.close()
    if args.publish:
        figures = publishable(figures)
    sys.stdout.write(render(figures, as_json=args.json, as_rows=args.csv))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    return asyncio.run(report(args))
