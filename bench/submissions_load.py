"""Submitting a form while 50 outreach workers submit theirs at the same moment.

Run from the repository root:  python bench/submissions_load.py [--clients 50] [--rounds 3]
With INTAKE_BENCH_DATABASE_URL=postgresql://... it also runs on PostgreSQL, in a
schema of its own that is dropped afterwards.

The real application runs in a child process (uvicorn, one process, as `intake
serve` starts it) on 127.0.0.1 with a throwaway SQLite file. Fifty outreach
workers are made through the accounts service and each signs in through the
login page. Then, per round, fifty threads (one httpx client each, its own
cookies) fill the urgent needs form through the real routes: the start page,
start, the page of questions, the review page, and submit, each POST with the
page's CSRF token. The threads wait for each other before submitting, so the
fifty submits arrive together: the worst moment for the database's writer lock.
Reported: p50 and p99 of the submit request, the failures, and whether the
submissions stored equal the submits that succeeded. Loopback only; every
request has a timeout, the run is bounded by clients x rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import _seed  # the helpers beside this script
import httpx
from sqlalchemy import func, select

from intake.config import Settings
from intake.db import make_engine, make_session_factory
from intake.filling.models import Submission

FORM = "urgent_needs"
TIMEOUT = 60.0
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CLIENT_ID = re.compile(r'name="client_id" value="([^"]+)"')
REVIEWED = re.compile(r'name="_reviewed" value="([^"]+)"')


@dataclass
class Outcome:
    """What happened to one client in one round."""

    submit_seconds: float | None = None
    failure: str = ""


@dataclass
class Report:
    """All rounds together."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def latencies(self) -> list[float]:
        """Submit latencies of the successful submits, in seconds."""
        return [o.submit_seconds for o in self.outcomes if o.submit_seconds is not None]

    @property
    def failures(self) -> list[str]:
        """Why each failed client failed."""
        return [o.failure for o in self.outcomes if o.failure]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """The real application in a uvicorn child process; yields its base URL."""
    port = _free_port()
    env = {**os.environ, **_seed.environment_for(settings)}
    command = [sys.executable, "-m", "uvicorn", "intake.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the application did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _token(html: str, pattern: re.Pattern[str] = TOKEN) -> str:
    found = pattern.search(html)
    if not found:
        raise LookupError(f"no {pattern.pattern.split('=')[1]} on the page")
    return found.group(1)


def sign_in(base: str, username: str) -> httpx.Client:
    """A client holding a signed-in session of `username` (setup: one at a time, not timed)."""
    client = httpx.Client(base_url=base, timeout=TIMEOUT, headers={"Origin": base})
    page = client.get("/login")
    done = client.post(
        "/login",
        data={"username": username, "password": _seed.PASSWORD, "csrf_token": _token(page.text)},
    )
    if done.status_code != 303:
        raise RuntimeError(f"sign-in of {username} answered {done.status_code}")
    return client


def _expect(response: httpx.Response, status: int, step: str) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(f"{step}: {response.status_code}")
    return response


def fill_and_submit(client: httpx.Client, ready: threading.Barrier) -> Outcome:
    """Fill the urgent needs form through the real routes; time only the submit."""
    try:
        start = _expect(client.get(f"/forms/{FORM}/new"), 200, "start page")
        client_id = _token(start.text, CLIENT_ID)
        data = {"csrf_token": _token(start.text), "client_id": client_id, "language": "en"}
        _expect(client.post(f"/forms/{FORM}/new", data=data), 303, "start")
        page = _expect(client.get(f"/fill/{client_id}"), 200, "questions")
        answers = {
            "csrf_token": _token(page.text),
            "_action": "next",
            "assistance_date": dt.date.today().isoformat(),
            "provided": "food",
            "medical_needed": "no",
            "bed_tonight": "shelter",
        }
        _expect(client.post(f"/fill/{client_id}", data=answers), 303, "page")
        review = _expect(client.get(f"/fill/{client_id}"), 200, "review")
        submit = {"csrf_token": _token(review.text), "_reviewed": _token(review.text, REVIEWED)}
    except (RuntimeError, LookupError, httpx.HTTPError) as exc:
        ready.abort()
        return Outcome(failure=f"before submit: {exc}")
    # Broken when another client failed early; this one still submits.
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait(timeout=TIMEOUT)
    started = time.perf_counter()
    try:
        response = client.post(f"/fill/{client_id}/submit", data=submit)
    except httpx.HTTPError as exc:
        return Outcome(failure=f"submit: {type(exc).__name__}")
    elapsed = time.perf_counter() - started
    if response.status_code != 303:
        return Outcome(failure=f"submit: {response.status_code}")
    return Outcome(submit_seconds=elapsed)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(database_url: str, label: str, clients: int, rounds: int) -> bool:
    """One installation under load; prints its figures and says whether all held."""
    with tempfile.TemporaryDirectory() as folder:
        settings = _seed.settings_for(Path(folder), database_url)
        engine = _seed.prepare(database_url)
        with make_session_factory(engine)() as db, _seed.one_hash_for_the_bench_password():
            names = [f"bench.worker{n + 1}" for n in range(clients)]
            for name in names:
                _seed.make_user(db, organisation="Bench NGO", role="outreach_worker", username=name)
        report = Report()
        with (
            serve(settings) as base,
            ThreadPoolExecutor(max_workers=clients) as pool,
        ):
            # Signed in one after the other: concurrent sign-ins are not what is measured.
            signed_in = [sign_in(base, name) for name in names]
            started = time.perf_counter()
            for _round in range(rounds):
                barrier = threading.Barrier(clients)
                report.outcomes += pool.map(fill_and_submit, signed_in, [barrier] * clients)
            wall = time.perf_counter() - started
            for client in signed_in:
                client.close()
        with make_engine(database_url).connect() as conn:
            stored = conn.execute(
                select(func.count()).select_from(Submission).where(Submission.form_key == FORM)
            ).scalar_one()
        latencies = [s * 1000 for s in report.latencies]
        print(f"\n### {label}: {_seed.versions(engine)}\n")
        print(f"{clients} clients x {rounds} rounds, {wall:.1f} s in all")
        print("| fillings | submitted | p50 | p99 | max | failures | stored |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print(
            f"| {len(report.outcomes)} | {len(latencies)} | {_percentile(latencies, 0.5):.0f} ms "
            f"| {_percentile(latencies, 0.99):.0f} ms | {max(latencies):.0f} ms "
            f"| {len(report.failures)} | {stored} |"
        )
        for reason in sorted(set(report.failures)):
            print(f"  failure: {reason} x{report.failures.count(reason)}")
        engine.dispose()
        consistent = stored == len(latencies)
        print(f"  stored submissions equal successful submits: {consistent}")
        return consistent and not report.failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        ok = run(url, "SQLite", args.clients, args.rounds)
    pg = os.environ.get("INTAKE_BENCH_DATABASE_URL", "")
    if pg:
        with _seed.postgres_schema(pg) as url:
            ok = run(url, "PostgreSQL", args.clients, args.rounds) and ok
    else:
        print("\n(PostgreSQL skipped: set INTAKE_BENCH_DATABASE_URL to include it)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
