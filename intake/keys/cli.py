"""`intake keys`: make a data key, and re-encrypt everything under the first one."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def cmd_generate(args: argparse.Namespace) -> int:
    from intake.security.field_crypto import generate_key

    print(f"{args.key_id}:{generate_key()}")
    print(
        "Put it first in INTAKE_DATA_KEYS (keep the old keys after it), restart, "
        "then run `intake keys rotate`.",
        file=sys.stderr,
    )
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    from intake.config import get_settings
    from intake.db import make_engine, make_session_factory, write_transaction
    from intake.forms.storage import keyring_for
    from intake.keys import rotation
    from intake.keys.clear_text import seal_clear_values

    settings = get_settings()
    keyring = keyring_for(settings)

    def progress_line(name: str, progress: Any) -> None:
        checked = sum(progress.checked.values())
        changed = sum(progress.reencrypted.values())
        print(
            f"\r{name}: {checked} rows checked, {changed} re-encrypted",
            end="",
            file=sys.stderr,
            flush=True,
        )

    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as db:
        with write_transaction(db):
            sealed = seal_clear_values(conn=db.connection(), settings=settings)
        if sealed:
            print(f"sealed {sum(sealed.values())} row(s) written in the clear by an older version")
        report = rotation.rotate(
            db=db, keyring=keyring, batch_size=args.batch_size, on_batch=progress_line
        )
    engine.dispose()
    print(file=sys.stderr)
    changed = sum(report.progress.reencrypted.values())
    print(f"re-encrypted the values of {changed} rows with key {report.active}")
    for key_id in report.key_ids:
        if key_id == report.active:
            continue
        left = report.still_sealing.get(key_id, 0)
        if left:
            print(f"{key_id} still seals {left} value(s) that could not be read: keep it")
        else:
            print(f"{key_id} can be removed from INTAKE_DATA_KEYS")
    old_in_use = [k for k in report.key_ids if k != report.active and report.still_sealing.get(k)]
    return 1 if old_in_use else 0


def register(sub: Any) -> None:
    """Add `intake keys generate|rotate` to the command's subparsers."""
    keys = sub.add_parser("keys", help="data keys").add_subparsers(
        dest="keys_command", required=True
    )
    generate = keys.add_parser("generate", help="print a new data key to put first in the setting")
    generate.add_argument("key_id", help="a short name for the key, e.g. 2025a")
    generate.set_defaults(handler=cmd_generate)
    rotate = keys.add_parser(
        "rotate", help="re-encrypt every sealed value with the first key (resumable)"
    )
    rotate.add_argument("--batch-size", type=int, default=200)
    rotate.set_defaults(handler=cmd_rotate)
