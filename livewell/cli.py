"""`livewell`: run, migrate and operate the Living Well Line.

`livewell run` imports this module and lives as long as the system, so what only one command
needs and weighs much (Alembic with every service's migrations, uvicorn and a whole service,
the routing rules' checker, the Twilio mock) is imported inside that command.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from gateway import keys
from gateway.identity.cli import add_parser as add_staff_parser
from gateway.identity.cli import run as run_staff
from gateway.models import ApiKey, AuditEntry
from livewell.migrated import wait_for_migrations
from livewell.report import add_parser as add_report_parser
from livewell.supervisor import run_supervisor
from services.common import deadletters
from services.common.audit import audit
from services.common.clock import Clock
from services.common.context import Actor
from services.common.db import Database
from services.common.settings import Settings
from services.referral.directory.cli import add_parser as add_directory_parser

SERVABLE = ("gateway", "intake", "referral", "keyperson", "notify")


def _status(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    return run_supervisor(Settings())


def cmd_migrate(args: argparse.Namespace) -> int:
    from services.common.migrations import MIGRATED, upgrade  # heavy: Alembic (module doc)

    settings = Settings()
    for service in args.service or MIGRATED:
        _status(f"migrating {service}")
        upgrade(settings, service)
    _status("databases are up to date")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from services.common.serve import serve  # heavy: uvicorn, then the app (module doc)

    settings = Settings()
    if args.service == "gateway":
        from gateway.app import create_app as create_gateway  # heavy: the whole gateway

        app = create_gateway(settings)
        wait_for_migrations()
        serve(app, settings.gateway_port, settings.bind_host)
        return 0
    module = __import__(f"services.{args.service}.app", fromlist=["create_app"])
    app = module.create_app(settings)
    wait_for_migrations()
    serve(app, settings.service_port(args.service), settings.bind_host)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    return asyncio.run(_keys(args))


async def _keys(args: argparse.Namespace) -> int:
    from services.common.migrations import upgrade  # heavy: Alembic (module doc)

    settings = Settings()
    upgrade(settings, "gateway")
    db = Database(settings, "gateway")
    now = Clock().now()
    operator = Actor(kind="system", key_id="cli")
    try:
        async with db.sessionmaker() as session, session.begin():
            if args.keys_command == "create":
                try:
                    row, secret = keys.new_key(session, args.org, args.role, args.name, now)
                except ValueError as exc:
                    print(f"livewell keys create: {exc}", file=sys.stderr)
                    return 2
                audit(session, AuditEntry, operator, "create", "api_key", row.id, now)
                if args.json:
                    print(json.dumps({"id": row.id, "org": row.org, "role": row.role,
                                      "key": secret}))
                else:
                    print(f"Key for {row.org} ({row.role}), id {row.id}.")
                    print("It is shown once; store it now:")
                    print(secret)
            elif args.keys_command == "list":
                rows = (await session.scalars(select(ApiKey).order_by(ApiKey.created_at))).all()
                for r in rows:
                    state = f"revoked {r.revoked_at:%Y-%m-%d}" if r.revoked_at else "active"
                    print(f"{r.id}  lw_{r.prefix}_…  {r.role:<8} {state:<18} {r.org}")
                if not rows:
                    print("No keys yet. Create one with: livewell keys create --org … --role …")
            else:
                if not await keys.revoke(session, args.key_id, now):
                    print(f"No active key {args.key_id}.", file=sys.stderr)
                    return 1
                audit(session, AuditEntry, operator, "revoke", "api_key", args.key_id, now)
                print(f"Revoked {args.key_id}; it stops working within seconds.")
    finally:
        await db.dispose()
    return 0


def cmd_staff(args: argparse.Namespace) -> int:
    return asyncio.run(run_staff(args))


def cmd_deadletters(args: argparse.Namespace) -> int:
    return asyncio.run(_deadletters(args))


async def _deadletters(args: argparse.Namespace) -> int:
    """List the outbox rows the relays gave up on, or re-queue one (`service:id`)."""
    from services.common.migrations import MIGRATED  # heavy: Alembic (module doc)

    settings = Settings()
    if args.deadletters_command == "replay":
        try:
            service, row_id = deadletters.parse_name(args.id)
        except ValueError as exc:
            print(f"livewell deadletters replay: {exc}", file=sys.stderr)
            return 2
        if service not in MIGRATED:
            print(f"livewell deadletters replay: no service {service!r} "
                  f"(one of {', '.join(MIGRATED)})", file=sys.stderr)
            return 2
        services = [service]
    else:
        services = [args.service] if args.service else list(MIGRATED)
    found: list[deadletters.DeadLetter] = []
    for service in services:
        module = "gateway.models" if service == "gateway" else f"services.{service}.models"
        model = importlib.import_module(module).KIT_MODELS.outbox
        db = Database(settings, service)
        try:
            if args.deadletters_command == "replay":
                if not await deadletters.replay(db, model, row_id, Clock().now()):
                    print(f"No dead letter {args.id} (never dead, or already replayed).",
                          file=sys.stderr)
                    return 1
                print(f"Re-queued {args.id}; the {service} relay sends it within a second.")
                return 0
            found += await deadletters.list_dead(db, model, service)
        finally:
            await db.dispose()
    if args.json:
        print(json.dumps([deadletters.as_json(d) for d in found]))
    elif not found:
        print("No dead letters.")
    for d in [] if args.json else found:
        print(f"{d.name:<16} {d.dead_at:%Y-%m-%d %H:%M} {d.target:<10} tries {d.attempts:<3} "
              f"{d.last_error or '-':<24} {d.key}")
    return 0


def cmd_routing(args: argparse.Namespace) -> int:
    from services.referral.routing_cases import run_routing_test  # heavy (module doc)

    return run_routing_test(Path(args.cases), Path(args.rules) if args.rules else None)


def cmd_twilio_mock(args: argparse.Namespace) -> int:
    from livewell.twilio_mock.__main__ import main as mock_main  # heavy (module doc)

    mock_main(args.mock_args)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livewell",
        description="Living Well Line: a 24/7 single-number mental-health front door. "
                    "Settings come from the environment or .env (see README).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="migrate, start the gateway and the four services, "
                                   "restart any that dies; Ctrl-C stops all")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("migrate", help="bring every service's database up to date")
    p.add_argument("--service", action="append", choices=SERVABLE,
                   help="only this one (repeatable)")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("serve", help="run one process (what `run` starts for each)")
    p.add_argument("service", choices=(*SERVABLE, "site", "desk"))  # no databases of their own
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("keys", help="API keys for partners and staff")
    keys_sub = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    k = keys_sub.add_parser("create", help="create a key and print it once")
    k.add_argument("--org", required=True, help='organisation, e.g. "Lambeth Police"')
    k.add_argument("--role", required=True, choices=("partner", "staff", "admin"))
    k.add_argument("--name", help="what the key is for")
    k.add_argument("--json", action="store_true", help="print JSON (for scripts)")
    keys_sub.add_parser("list", help="list keys (never the secrets)")
    k = keys_sub.add_parser("revoke", help="revoke a key by id or prefix")
    k.add_argument("key_id")
    p.set_defaults(func=cmd_keys)

    add_staff_parser(sub)
    sub.choices["staff"].set_defaults(func=cmd_staff)

    p = sub.add_parser("deadletters", help="outbox messages the relays gave up on")
    dead_sub = p.add_subparsers(dest="deadletters_command", required=True, metavar="ACTION")
    d = dead_sub.add_parser("list", help="list dead letters, newest first (never payloads)")
    d.add_argument("--service", choices=SERVABLE, help="only this service's outbox")
    d.add_argument("--json", action="store_true", help="print JSON (for scripts)")
    d = dead_sub.add_parser("replay", help="re-queue one dead letter, once")
    d.add_argument("id", help="as listed: service:id, e.g. referral:42")
    p.set_defaults(func=cmd_deadletters)

    add_report_parser(sub)

    add_directory_parser(sub)

    p = sub.add_parser("routing", help="routing rules tools")
    routing_sub = p.add_subparsers(dest="routing_command", required=True, metavar="ACTION")
    r = routing_sub.add_parser("test", help="check a CSV table of cases against a rules file")
    r.add_argument("cases", help="CSV of cases with their expected route")
    r.add_argument("--rules", help="rules file to try (default: the rules in force)")
    p.set_defaults(func=cmd_routing)

    p = sub.add_parser("twilio-mock", help="a local Twilio-compatible REST API for development",
                       add_help=False)
    p.add_argument("mock_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_twilio_mock)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
