"""`livewell directory import FILE | export [FILE] | seed`: the network directory as Open
Referral UK JSON, straight into (or out of) referral's own database."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from services.common.clock import Clock
from services.common.db import Database
from services.common.errors import ProblemError
from services.common.settings import Settings

SEED = Path(__file__).parent / "data" / "lambeth_examples.json"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("directory", help="the Living Well Network directory (Open Referral UK)")
    d = p.add_subparsers(dest="directory_command", required=True, metavar="ACTION")
    i = d.add_parser("import", help="import Open Referral UK JSON (services and taxonomies)")
    i.add_argument("file", type=Path)
    e = d.add_parser("export", help="write the whole directory as Open Referral UK JSON")
    e.add_argument("file", type=Path, nargs="?", help="default: standard output")
    d.add_parser("seed", help="load the example Lambeth services (marked 'Example: …')")
    p.set_defaults(func=lambda args: asyncio.run(run(args)))


async def run(args: argparse.Namespace) -> int:
    """Unit of work: the command runs on its own, outside any service, in one transaction (an
    import is all of the file or none of it)."""
    from services.common.migrations import upgrade  # heavy: Alembic (livewell/cli.py's doc)
    from services.referral.directory import bundle  # heavy: JSON Schema and the models


    settings = Settings()
    upgrade(settings, "referral")
    db = Database(settings, "referral")
    try:
        async with db.sessionmaker() as session, session.begin():
            if args.directory_command == "export":
                text = json.dumps(await bundle.export_documents(session), indent=2,
                                  ensure_ascii=False) + "\n"
                if args.file is None:
                    sys.stdout.write(text)
                else:
                    args.file.write_text(text, encoding="utf-8")
                return 0
            path = SEED if args.directory_command == "seed" else args.file
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                done = await bundle.import_documents(session, data, Clock().now())
            except (OSError, ValueError) as exc:
                print(f"livewell directory: cannot read {path}: {exc}", file=sys.stderr)
                return 2
            except ProblemError as exc:
                for e in exc.errors or []:
                    where = ".".join(str(p) for p in e["loc"])
                    print(f"livewell directory: {where}: {e['msg']}", file=sys.stderr)
                return 1
            print(f"imported {done.services} services and {done.taxonomies} taxonomies")
            return 0
    finally:
        await db.dispose()
