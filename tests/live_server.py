"""A real `intake serve` process on loopback and a real SQLite file, for the tests that
need what only a real server shows: several people at once, slow uploads, slow tools."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


@contextmanager
def live_server(
    base: Path,
    *,
    users: Sequence[tuple[str, str]],
    env: dict[str, str] | None = None,
    sync_definitions: bool = False,
) -> Iterator[str]:
    """Migrate a fresh database under `base`, create `users` ((name, role), all with
    PASSWORD), serve the app, yield its URL, and stop it at the end."""
    environment = {
        **os.environ,
        "INTAKE_VAR_DIR": str(base / "var"),
        "INTAKE_DATABASE_URL": f"sqlite:///{base / 'live.sqlite3'}",
        # These tests are about many people at once, not the second factor (which
        # tests/accounts/test_mfa*.py and the browser test cover with it on).
        "INTAKE_MFA_ENFORCED": "false",
        **(env or {}),
    }

    def cli(*args: str, stdin: str = "") -> None:
        done = subprocess.run(
            [sys.executable, "-m", "intake.cli", *args],
            input=stdin, capture_output=True, text=True, env=environment, cwd=ROOT, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    cli("db", "upgrade")
    if sync_definitions:
        cli("definitions", "sync")
    for name, role in users:
        cli("users", "create", name, "--role", role, "--org", "Team", "--password-stdin",
            stdin=PASSWORD + "\n")  # fmt: skip
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "serve", "--port", str(port)],
        env=environment, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def csrf_token(html: str) -> str:
    """The CSRF token a page carries."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def signed_in(url: str, username: str) -> httpx.Client:
    """A client signed in as `username`."""
    client = httpx.Client(base_url=url, timeout=60)
    answer = client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": csrf_token(client.get("/login").text),
        },
    )
    assert answer.status_code == 303, answer.status_code
    return client
