"""`livewell staff invite|list|disable`: the operator's side of people who sign in."""

from __future__ import annotations

import argparse
import sys

from gateway.identity import accounts, staff
from gateway.identity.config import IdentitySettings
from gateway.models import AuditEntry
from services.common.audit import audit
from services.common.clock import Clock
from services.common.context import Actor
from services.common.settings import Settings

OPERATOR = Actor(kind="system", key_id="cli")


async def run(args: argparse.Namespace) -> int:
    from gateway.identity import models  # noqa: F401  (the tables, on the gateway's metadata)
    from services.common.db import Database
    from services.common.migrations import upgrade

    settings = Settings()
    cfg = IdentitySettings()
    upgrade(settings, "gateway")
    db = Database(settings, "gateway")
    now = Clock().now()
    try:
        async with db.sessionmaker() as session, session.begin():
            if args.staff_command == "invite":
                try:
                    sent = await staff.invite(
                        session, settings, OPERATOR, email=args.email, role=args.role,
                        keyworker_id=args.keyworker_id, name=args.name, now=now,
                        valid_hours=cfg.invitation_hours)
                except accounts.AccountError as exc:
                    print(f"livewell staff invite: {exc}", file=sys.stderr)
                    return 2
                inv = sent.invitation
                print(f"Invitation for {inv.account.email} ({inv.account.role}), valid until "
                      f"{inv.expires_at:%Y-%m-%d %H:%M} UTC, single use:")
                print(sent.url)
            elif args.staff_command == "list":
                rows = await accounts.list_accounts(session)
                for row in rows:
                    a, live, state = row.account, row.live_sessions, row.status
                    print(f"{a.id}  {a.role:<11} {state:<8} sessions {live:<3} {a.email}"
                          + (f"  keyworker {a.keyworker_id}" if a.keyworker_id else ""))
                if not rows:
                    print("No staff yet. Invite someone with: livewell staff invite --email … "
                          "--role …")
            else:
                account = await accounts.disable(session, args.email, now)
                if account is None:
                    print(f"No account for {args.email}.", file=sys.stderr)
                    return 1
                audit(session, AuditEntry, OPERATOR, "disable", "staff_account", account.id, now)
                print(f"Disabled {account.email}; their sessions have ended.")
    finally:
        await db.dispose()
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("staff", help="people who sign in to the desk")
    staff = p.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    s = staff.add_parser("invite", help="print a single-use invitation URL (valid 72 h)")
    s.add_argument("--email", required=True)
    s.add_argument("--role", required=True, choices=("key_worker", "coordinator", "admin"))
    s.add_argument("--keyworker-id", help="the key worker of the roster (role key_worker)")
    s.add_argument("--name")
    staff.add_parser("list", help="list accounts and their live sessions")
    s = staff.add_parser("disable", help="disable an account; its sessions end at once")
    s.add_argument("--email", required=True)
