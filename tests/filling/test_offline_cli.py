"""`intake offline rotate-key`: a new sealing key, the old one retired but still there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent.parent


def test_rotate_key_makes_a_new_key_and_retires_the_old(tmp_path) -> None:
    env = {
        "INTAKE_VAR_DIR": str(tmp_path / "var"),
        "INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "PATH": "/usr/bin:/bin",
    }

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "intake.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("db", "upgrade")
    first = run("offline", "rotate-key").split()[4]
    second = run("offline", "rotate-key").split()[4]
    assert first != second
    engine = create_engine(env["INTAKE_DATABASE_URL"])
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, retired_at IS NULL FROM sealing_keys")).all())
        secrets = conn.execute(text("SELECT private_key FROM sealing_keys")).scalars().all()
    engine.dispose()
    assert rows == {first: 0, second: 1}
    assert all(s.startswith("v1:") and "PRIVATE KEY" not in s for s in secrets)
