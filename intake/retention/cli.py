"""`intake retention run [--dry-run]`: anonymise the closed cases past their retention period."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_run(args: argparse.Namespace) -> int:
    from intake.config import get_settings
    from intake.db import make_engine, make_session_factory
    from intake.retention import service

    settings = get_settings()
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as db:
        report = service.run(db=db, settings=settings, dry_run=args.dry_run)
    engine.dispose()
    if report.dry_run:
        print(f"{report.due} closed case(s) are past their retention period; nothing was changed")
    else:
        print(f"anonymised {report.anonymised} of {report.due} case(s) past their retention period")
    return 0


def register(sub: Any) -> None:
    """Add `intake retention run` to the command's subparsers."""
    retention = sub.add_parser("retention", help="retention of closed cases").add_subparsers(
        dest="retention_command", required=True
    )
    run = retention.add_parser(
        "run", help="anonymise closed cases past their organisation's retention period"
    )
    run.add_argument("--dry-run", action="store_true", help="count them, change nothing")
    run.set_defaults(handler=cmd_run)
