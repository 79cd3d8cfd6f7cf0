"""The installation administrator exists only from the command line, and the operator
makes the one-time password of a user whose organisation has no supervisor."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def run(tmp_path: Path):
    env = {
        **os.environ,
        "INTAKE_VAR_DIR": str(tmp_path / "var"),
        "INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }
    env.pop("INTAKE_SECRET_KEY", None)

    def invoke(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "intake.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )

    return invoke


def test_installation_admin_and_operator_reset(run) -> None:
    assert run("db", "upgrade").returncode == 0
    made = run("users", "create", "root", "--role", "installation_admin", "--org", "Operators")
    assert made.returncode == 0, made.stderr
    assert "created root (installation_admin)" in made.stdout
    assert "one-time password" in made.stdout
    reset = run("users", "reset", "root")
    assert reset.returncode == 0 and "one-time password" in reset.stdout
    first = made.stdout.rsplit(" ", 1)[-1].strip()
    second = reset.stdout.rsplit(" ", 1)[-1].strip()
    assert first != second
    assert run("users", "reset", "nobody").returncode == 1
