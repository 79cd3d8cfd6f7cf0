"""The phones and the servers of bench/load.py (see its docstring)."""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60.0
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CLIENT_ID = re.compile(r'name="client_id" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')

# The answers a worker gives (as tests/cases/flow.py), page by page.
CONSENT = [
    {"consent_date": "2024-03-01", "explained_in": "russian"},
    {
        "consent_services": "yes",
        "consent_sharing": "no",
        "consent_referral": "yes",
        "consent_return": "not_now",
        "worker_confirms": "yes",
    },
]


def first_contact() -> list[dict[str, object]]:
    """The intake form's answers, for a person nobody has recorded yet (no overlap)."""
    rng = random.Random()
    name = "".join(rng.choice("abcdefghijklmnoprstuvz") for _ in range(8)).title()
    born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(15_000))
    return [
        {"contact_date": "2024-03-01", "where_met": "outreach"},
        {
            "given_name": name,
            "family_name": name[::-1].title(),
            "birth_date": born.isoformat(),
            "gender": "female",
        },
        {"immediate_needs": ["food"], "safety_risk": "low"},
    ]


class Failed(Exception):
    """A response other than the one a phone expects."""


@dataclass
class Timings:
    """Latencies by kind of request, statuses, and failures, shared by the phones."""

    by_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.by_kind[kind].append(seconds)
            self.statuses[status] += 1

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(command: list[str], env: dict[str, str], probe: str) -> Iterator[tuple[str, int]]:
    """A server child process on loopback; yields its base URL and pid, stops it after."""
    port = free_port()
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + probe, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _tree(pid: int) -> list[int]:
    """`pid` and its live descendants (uvicorn --workers forks children)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children[ppid].append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the server process tree so far (/proc/<pid>/stat)."""
    total = 0
    for each in _tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of the server process tree, in MB."""
    total = 0
    for each in _tree(pid):
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class PeakMemory:
    """Samples the server's RSS every 100 ms while in use; `peak` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, rss_mb(self.pid))

    def __enter__(self) -> PeakMemory:
        self.peak = rss_mb(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def token(html: str, pattern: re.Pattern[str] = TOKEN) -> str:
    found = pattern.search(html)
    if not found:
        raise Failed("no token on the page")
    return found.group(1)


class Phone:
    """One outreach worker's phone: its own connection, cookies and timings."""

    def __init__(self, base: str, username: str, password: str, timings: Timings) -> None:
        self.client = httpx.Client(base_url=base, timeout=TIMEOUT, headers={"Origin": base})
        self.timings = timings
        page = self.client.get("/login")
        done = self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token(page.text)},
        )
        if done.status_code != 303:
            raise Failed(f"sign-in answered {done.status_code}")

    def call(self, kind: str, method: str, url: str, expect: int, **kw: object) -> httpx.Response:
        started = time.perf_counter()
        response = self.client.request(method, url, **kw)  # type: ignore[arg-type]
        self.timings.add(kind, time.perf_counter() - started, response.status_code)
        if response.status_code != expect:
            raise Failed(f"{kind}: {response.status_code}")
        return response

    def fill(self, client_id: str, pages: list[dict[str, object]]) -> None:
        for answers in [*pages, {}]:
            page = self.call("page GET", "GET", f"/fill/{client_id}", 200)
            data = {"csrf_token": token(page.text), "_action": "next", **answers}
            self.call("page save", "POST", f"/fill/{client_id}", 303, data=data)

    def review(self, client_id: str) -> dict[str, str]:
        page = self.call("review GET", "GET", f"/fill/{client_id}", 200)
        form = page.text.split(f'action="/fill/{client_id}/submit"', 1)
        if len(form) < 2:
            raise Failed("no submit form on the review page")
        return dict(HIDDEN.findall(form[1].split("</form>", 1)[0]))

    def until_final_review(self) -> tuple[str, dict[str, str]]:
        """Consent given and the intake form filled: what its final submit posts."""
        start = self.call("start GET", "GET", "/intake/new", 200)
        consent_id = token(start.text, CLIENT_ID)
        data = {"csrf_token": token(start.text), "client_id": consent_id, "language": "en"}
        self.call("start", "POST", "/intake/new", 303, data=data)
        self.fill(consent_id, CONSENT)
        fields = self.review(consent_id)
        done = self.call("consent submit", "POST", f"/fill/{consent_id}/submit", 303, data=fields)
        intake_id = done.headers["location"].removeprefix("/fill/")
        self.fill(intake_id, first_contact())
        return intake_id, self.review(intake_id)

    def submit(self, intake_id: str, fields: dict[str, str]) -> None:
        self.call("intake submit", "POST", f"/fill/{intake_id}/submit", 303, data=fields)

    def intake(self) -> None:
        """The whole intake, consent then first contact (about 20 requests)."""
        self.submit(*self.until_final_review())

    def loop(self, until: float, stop: Callable[[], bool]) -> int:
        """Whole intakes one after another until the time is up; how many were done."""
        done = 0
        while time.monotonic() < until and not stop():
            try:
                self.intake()
                done += 1
            except (Failed, httpx.HTTPError) as exc:
                with self.timings.lock:
                    self.timings.failures.append(str(exc)[:80])
        return done


def floor_post(client: httpx.Client, body: bytes, timings: Timings, kind: str) -> None:
    started = time.perf_counter()
    response = client.post("/", content=body, headers={"content-type": "text/plain"})
    timings.add(kind, time.perf_counter() - started, response.status_code)


def trickle(base: str, path: str, cookies: httpx.Cookies, body: bytes, seconds: float) -> int:
    """POST `body` a byte at a time over `seconds` (a phone on a broken connection)."""
    host, port = base.removeprefix("http://").split(":")
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: {base}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nCookie: {cookie}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=seconds + 30) as sock:
        sock.sendall(head.encode())
        pause = seconds / max(1, len(body))
        for byte in body:
            sock.sendall(bytes([byte]))
            time.sleep(pause)
        answer = sock.recv(64).decode(errors="replace")
    return int(answer.split()[1]) if answer.startswith("HTTP/") else 0


def python() -> str:
    return sys.executable
