"""Many people at once on the embedded SQLite database: slower, never refused.

A real server process on a real SQLite file; the requests arrive together
from threads, as phones on one team would.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
PEOPLE = 12


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("concurrency")
    env = {
        **os.environ,
        "INTAKE_VAR_DIR": str(base / "var"),
        "INTAKE_DATABASE_URL": f"sqlite:///{base / 'team.sqlite3'}",
    }

    def cli(*args: str, stdin: str = "") -> None:
        done = subprocess.run(
            [sys.executable, "-m", "intake.cli", *args],
            input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    cli("db", "upgrade")
    cli("definitions", "sync")
    for n in range(PEOPLE):
        cli("users", "create", f"w{n}", "--role", "outreach_worker", "--org", "Team",
            "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "serve", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _together(work, count: int) -> list[object]:
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(n: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[n] = work(n)
        except Exception as exc:  # the assertion below shows what failed
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_a_team_signs_in_and_starts_forms_at_the_same_moment(server: str) -> None:
    clients = [httpx.Client(base_url=server, timeout=60) for _ in range(PEOPLE)]
    tokens = [_token(client.get("/login").text) for client in clients]

    def sign_in(n: int) -> int:
        data = {"username": f"w{n}", "password": PASSWORD, "csrf_token": tokens[n]}
        return clients[n].post("/login", data=data).status_code

    assert _together(sign_in, PEOPLE) == [303] * PEOPLE

    starts = [_token(client.get("/forms/urgent_needs/new").text) for client in clients]

    def start_form(n: int) -> int:
        page = clients[n].get("/forms/urgent_needs/new").text
        data = {"csrf_token": starts[n]}
        client_id = re.search(r'name="client_id" value="([^"]+)"', page)
        if client_id:
            data["client_id"] = client_id.group(1)
        return clients[n].post("/forms/urgent_needs/new", data=data).status_code

    statuses = _together(start_form, PEOPLE)
    assert statuses == [303] * PEOPLE, statuses
    # Reading pages at the same time is never refused either.
    assert _together(lambda n: clients[n].get("/drafts").status_code, PEOPLE) == [200] * PEOPLE
