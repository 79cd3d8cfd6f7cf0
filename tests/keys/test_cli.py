"""`intake keys generate` and `intake keys rotate`, run as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from intake.accounts import mfa
from intake.db import make_engine
from intake.security.field_crypto import Keyring, decrypt_value, encrypt_value

from .test_rotation import NEW, OLD

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, keys: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "INTAKE_VAR_DIR": str(tmp_path / "var"),
        "INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "INTAKE_DATA_KEYS": keys,
    }
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", *args],
        input="",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_generate_then_rotate_from_the_command_line(tmp_path: Path) -> None:
    made = _run(tmp_path, OLD, "keys", "generate", "2025a")
    assert made.returncode == 0, made.stderr
    line = made.stdout.strip()
    assert Keyring.from_config(line).active == "2025a" and "INTAKE_DATA_KEYS" in made.stderr

    assert _run(tmp_path, OLD, "db", "upgrade").returncode == 0
    created = _run(
        tmp_path,
        OLD,
        "users",
        "create",
        "sup",
        "--role",
        "supervisor",
        "--org",
        "Org",
    )
    assert created.returncode == 0, created.stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    with engine.begin() as conn:
        user_id = conn.execute(text("SELECT id FROM users")).scalar_one()
        token = encrypt_value(
            keyring=Keyring.from_config(OLD), value="S3CR3T", context=mfa.secret_context(user_id)
        )
        conn.execute(text("UPDATE users SET totp_secret = :t"), {"t": token})

    rotated = _run(tmp_path, f"{NEW},{OLD}", "keys", "rotate", "--batch-size", "1")

    assert rotated.returncode == 0, rotated.stderr
    assert "1 re-encrypted" in rotated.stderr
    assert "t1 can be removed" in rotated.stdout
    with engine.begin() as conn:
        stored = conn.execute(text("SELECT totp_secret FROM users")).scalar_one()
    engine.dispose()
    assert stored.startswith("v1:t2:")
    only_new = Keyring.from_config(NEW)
    assert decrypt_value(keyring=only_new, token=stored, context=mfa.secret_context(user_id)) == (
        "S3CR3T"
    )
    # Run again: nothing to do, and still nothing under the old key.
    again = _run(tmp_path, f"{NEW},{OLD}", "keys", "rotate")
    assert again.returncode == 0 and "of 0 rows" in again.stdout
