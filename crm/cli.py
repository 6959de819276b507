"""``crmsphere crm sync [--full] [--connector KIND]`` and ``crmsphere crm status``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from config.settings import Settings
from domain.errors import NotFound

EXIT_FAILED = 1


def add_crm_parser(sub: Any) -> None:
    """Add the ``crm`` command to the ``crmsphere`` sub-parsers."""
    crm = sub.add_parser("crm", help="CRM sync (HubSpot, Salesforce)")
    actions = crm.add_subparsers(dest="action", required=True)
    sync = actions.add_parser("sync", help="sync changed CRM records into the customer registry now")
    sync.add_argument("--full", action="store_true", help="every record, ignoring the cursor")
    sync.add_argument("--connector", metavar="KIND", help="only this connector (hubspot, salesforce)")
    actions.add_parser("status", help="records, cursors and health per enabled connector")


async def run_crm(settings: Settings, args: argparse.Namespace) -> int:
    """Run a ``crm`` command; the exit code."""
    from crmsphere.runtime import (
        open_runtime,  # the composition root, as the other commands
    )

    enabled = [k for k, t in settings.crm.connectors().items() if t.enabled]
    if args.action == "sync" and args.connector:
        if args.connector not in settings.crm.connectors():
            raise NotFound(f"no CRM connector {args.connector!r} "
                           f"(known: {', '.join(settings.crm.connectors())})")
        if args.connector not in enabled:
            raise NotFound(f"CRM connector {args.connector!r} is not enabled: "
                           f"set crm.{args.connector}.enabled = true")
        enabled = [args.connector]
    if not enabled:
        print("no CRM connector is enabled (see docs/crm.md)", file=sys.stderr)
        return EXIT_FAILED if args.action == "sync" else 0
    async with open_runtime(settings, with_nlp=False) as rt:
        assert rt.crm is not None
        if args.action == "status":
            for kind in enabled:
                status = await rt.store.crm_status(kind)
                health = await rt.crm.health(f"crm:{kind}")
                problem = rt.crm.problems.get(kind) or health.error or ""
                print(f"crm:{kind:12} {'paused' if health.paused else health.state:15} "
                      f"last_run={health.last_run_at.isoformat() if health.last_run_at else '-'}"
                      f"  {problem}".rstrip())
                for object_type in settings.crm.connectors()[kind].objects:
                    cursor = status.cursors.get(object_type)
                    print(f"  {object_type:8} records={status.records.get(object_type, 0):<7} "
                          f"deleted={status.deleted.get(object_type, 0):<5} "
                          f"merged={status.merged.get(object_type, 0):<5} "
                          f"cursor={'-' if cursor is None else cursor.get('since', cursor)}")
                print(f"  timeline entries written: {status.outbound}")
            return 0
        failed = False
        for kind in enabled:
            health = await rt.crm.run_once(f"crm:{kind}", force=True, full=args.full)
            problem = rt.crm.problems.get(kind) or health.error
            print(f"crm:{kind}: {health.state}, {health.last_items} customer(s) changed"
                  + (f" ({problem})" if problem else ""))
            failed = failed or health.state != "ok"
        return EXIT_FAILED if failed else 0
