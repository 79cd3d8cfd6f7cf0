"""A real server on a real SQLite file, driven by a real Chromium at a phone viewport."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "correct horse battery staple"
PHONE = {"width": 360, "height": 740}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    configured = os.environ.get("INTAKE_BROWSER")
    if configured and Path(configured).exists():
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# One server and database per test module: tests that count cases, figures or the outbox
# see only what their own module made, whatever ran before them.
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    if _chromium() is None:
        pytest.skip("no Chromium found (set INTAKE_BROWSER or install Debian's chromium)")
    base = tmp_path_factory.mktemp("browser")
    env = {
        **os.environ,
        "INTAKE_VAR_DIR": str(base / "var"),
        "INTAKE_DATABASE_URL": f"sqlite:///{base / 'browser.sqlite3'}",
        # Only enrolled users are asked for a code (tests/browser/test_mfa.py enrols one).
        "INTAKE_MFA_ENFORCED": "false",
    }

    def cli(*args: str, stdin: str = "") -> str:
        done = subprocess.run(
            [sys.executable, "-m", "intake.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("db", "upgrade")
    for name, role, org in [
        ("b.worker", "outreach_worker", "Browser NGO"),
        ("b.supervisor", "supervisor", "Browser NGO"),
        ("b.admin", "admin", "Browser NGO"),
        ("b.other", "supervisor", "Other Municipality"),
    ]:
        cli(
            "users",
            "create",
            name,
            "--role",
            role,
            "--org",
            org,
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    cli("definitions", "sync")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the server did not start")
    yield {"url": url, "cli": cli, "database_url": env["INTAKE_DATABASE_URL"]}
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium found (set INTAKE_BROWSER or install Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def phone(browser, server) -> Iterator[object]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page, server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{server['url']}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{server['url']}/")


def sign_out(page) -> None:
    """Sign out from the bar's menu (base.html keeps it folded on every page)."""
    menu = page.locator("details#menu")
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()
    page.click("#menu form[action='/logout'] button")
