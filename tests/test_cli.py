"""The `intake` command, run as an operator would, against a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def run(tmp_path: Path):
    env = {
        **os.environ,
        "INTAKE_VAR_DIR": str(tmp_path / "var"),
        "INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }
    env.pop("INTAKE_SECRET_KEY", None)

    def invoke(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "intake.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )

    return invoke


def test_operator_flow(run, tmp_path: Path) -> None:
    assert run("db", "upgrade").returncode == 0
    created = run(
        "users",
        "create",
        "first.admin",
        "--role",
        "admin",
        "--org",
        "Caritas Vilnius",
        "--password-stdin",
        stdin="correct horse battery staple\n",
    )
    assert created.returncode == 0, created.stderr
    assert "created first.admin" in created.stdout
    weak = run(
        "users",
        "create",
        "weak",
        "--role",
        "admin",
        "--org",
        "X",
        "--password-stdin",
        stdin="short\n",
    )
    assert weak.returncode == 1 and "12 characters" in weak.stderr
    one_time = run("users", "create", "worker1", "--role", "outreach_worker", "--org", "New Org")
    assert one_time.returncode == 0 and "one-time password" in one_time.stdout
    assert run("demo").returncode == 1  # real users exist
    assert run("demo", "--if-empty").returncode == 0
    assert run("sessions", "revoke", "worker1").returncode == 0
    assert run("users", "disable", "worker1").returncode == 0
    assert run("users", "disable", "nobody").returncode == 1
    assert run("audit", "verify").stdout.strip() == "audit chain intact"
    # The secret key was generated once, privately, under var/.
    key = tmp_path / "var" / "secret_key"
    assert key.exists() and oct(key.stat().st_mode & 0o777) == "0o600"


def test_demo_prints_accounts_once(run) -> None:
    run("db", "upgrade")
    out = run("demo")
    assert out.returncode == 0
    for username in ("outreach", "supervisor", "admin"):
        assert username in out.stdout


def test_production_mode_without_secret_refuses(run) -> None:
    import os as _os

    env_run = subprocess.run(
        [sys.executable, "-m", "intake.cli", "db", "upgrade"],
        capture_output=True,
        text=True,
        env={**_os.environ, "INTAKE_MODE": "production", "INTAKE_SECRET_KEY": ""},
        cwd=ROOT,
        timeout=60,
    )
    assert env_run.returncode != 0
    assert "INTAKE_SECRET_KEY must be set" in env_run.stderr


def test_tampered_audit_row_is_named(run, tmp_path: Path) -> None:
    import sqlite3

    run("db", "upgrade")
    run("demo")
    connection = sqlite3.connect(tmp_path / "cli.sqlite3")
    connection.execute("UPDATE audit_events SET action = 'user.nothing' WHERE id = 2")
    connection.commit()
    connection.close()
    result = run("audit", "verify")
    assert result.returncode == 1
    assert "row 2" in result.stdout
