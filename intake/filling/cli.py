"""`intake offline rotate-key`: a new key for phones to seal finished fillings to."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_rotate_key(args: argparse.Namespace) -> int:
    from intake.config import get_settings
    from intake.db import make_engine, make_session_factory
    from intake.filling.sealing import create_key

    settings = get_settings()
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as db:
        key = create_key(db=db, settings=settings)
    engine.dispose()
    # The id only: the private half never leaves the database, where it is encrypted.
    print(f"phones seal to key {key.id} from now on; older keys still open what they sealed")
    return 0


def register(sub: Any) -> None:
    """Add `intake offline rotate-key` to the command's subparsers."""
    offline = sub.add_parser("offline", help="offline fillings").add_subparsers(
        dest="offline_command", required=True
    )
    rotate = offline.add_parser("rotate-key", help="make a new sealing key (the old ones retire)")
    rotate.set_defaults(handler=cmd_rotate_key)
