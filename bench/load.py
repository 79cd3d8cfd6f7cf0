"""Fifty phones doing whole intakes through the real server, beside the floor (issue 18).

Run from the repository root:

    python bench/load.py                      # short: 50 phones, 20 s, burst, SQLite
    python bench/load.py --db postgresql      # the same on PostgreSQL
    python bench/load.py --full               # every mode, 60 s, both databases

Each phone is its own outreach worker, signed in once, doing the whole intake (the
consent, then the first-contact form; about 20 requests) again and again through the
real application served by `intake serve` on 127.0.0.1. In the same run the FLOOR (a
bare Starlette app on the same uvicorn doing one insert of a submission-sized row
per POST, bench/_floor.py) takes the same number of clients. Printed: p50/p95/p99
by kind of request, throughput, the ratio to the floor, the server's CPU per request
(/proc/<pid>/stat of the server and its workers) and its peak RSS. Modes:
`--burst` fifty final submits at once (on by default), `--slow-upload` one POST
trickled over several seconds while another phone saves, `--failed-sign-ins N`
N clients failing sign-ins (`/healthz` p99 and memory meanwhile), `--opens N,M`
N simultaneous page opens. PostgreSQL runs in a schema of its own, dropped after.
Loopback only; every loop stops at its deadline and every request has a timeout.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import _floor
import _seed
import httpx
from _load_client import (
    Failed,
    PeakMemory,
    Phone,
    Timings,
    cpu_seconds,
    floor_post,
    percentile,
    python,
    server,
    trickle,
)
from sqlalchemy.orm import Session

from intake.db import make_session_factory

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
BODY = ("answers=" + "x" * 2000).encode()  # about what a final submit stores


@contextmanager
def installation(kind: str, phones: int) -> Iterator[tuple[str, dict[str, str]]]:
    """A fresh database with the shipped definitions and `phones` workers."""
    with tempfile.TemporaryDirectory() as folder:
        urls: AbstractContextManager[str] = nullcontext(f"sqlite:///{Path(folder) / 'l.sqlite3'}")
        if kind == "postgresql":
            urls = _seed.postgres_schema(
                os.environ.get("INTAKE_BENCH_DATABASE_URL", PG_DEFAULT), "_load"
            )
        with urls as url:
            settings = _seed.settings_for(Path(folder) / "var", url)
            engine = _seed.prepare(url)
            with make_session_factory(engine)() as db, _seed.one_hash_for_the_bench_password():
                for n in range(phones):
                    _make_phone_user(db, n)
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"\n## {kind}: {_seed.versions(engine)}; load average before: {load}")
            engine.dispose()
            env = {
                **_seed.environment_for(settings),
                "INTAKE_LOGIN_CLIENT_MAX_FAILURES": "1000000",
                "INTAKE_MFA_ENFORCED": "false",
            }
            yield url, env


def _make_phone_user(db: Session, n: int) -> None:
    _seed.make_user(
        db, organisation="Load NGO", role="outreach_worker", username=f"bench.phone{n + 1}"
    )


def _sign_in_all(base: str, phones: int, timings: Timings) -> list[Phone]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(
            pool.map(
                lambda n: Phone(base, f"bench.phone{n + 1}", _seed.PASSWORD, timings),
                range(phones),
            )
        )


def _table(timings: Timings, wall: float, cpu: float, peak: float) -> dict[str, float]:
    print("| request | n | p50 ms | p95 ms | p99 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    everything: list[float] = []
    for kind, values in sorted(timings.by_kind.items()):
        everything += values
        ms = [v * 1000 for v in values]
        print(
            f"| {kind} | {len(ms)} | {percentile(ms, 0.5):.0f} | {percentile(ms, 0.95):.0f} "
            f"| {percentile(ms, 0.99):.0f} | {max(ms):.0f} |"
        )
    rate = timings.requests / wall
    per = cpu / max(1, timings.requests) * 1000
    print(
        f"\n{timings.requests} requests in {wall:.1f} s: **{rate:.1f} req/s**, server CPU "
        f"**{per:.2f} ms/request**, peak RSS {peak:.0f} MB, responses >= 500: "
        f"{timings.errors}, statuses {dict(timings.statuses)}"
    )
    for reason in sorted(set(timings.failures)):
        print(f"  failure: {reason} x{timings.failures.count(reason)}")
    return {"rate": rate, "cpu_ms": per, "errors": timings.errors}


def app_load(
    base: str, pid: int, phones: list[Phone], seconds: float, profile: str = ""
) -> dict[str, float]:
    """Every phone doing whole intakes until the time is up (sampled by py-spy if asked)."""
    timings = Timings()
    spy = None
    if profile:
        spy = subprocess.Popen(
            ["py-spy", "record", "--pid", str(pid), "--rate", "200", "--nonblocking", "--gil",
             "--format", "raw", "--duration", str(int(seconds)), "--output", profile],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    for phone in phones:
        phone.timings = timings
    cpu, started = cpu_seconds(pid), time.monotonic()
    with PeakMemory(pid) as memory, ThreadPoolExecutor(max_workers=len(phones)) as pool:
        until = started + seconds
        intakes = sum(pool.map(lambda p: p.loop(until, lambda: False), phones))
    wall, used = time.monotonic() - started, cpu_seconds(pid) - cpu
    if spy is not None:
        spy.wait(60)
    print(f"\n### the application: {len(phones)} phones, whole intakes for {seconds:.0f} s\n")
    print(f"{intakes} intakes completed\n")
    figures = _table(timings, wall, used, memory.peak)
    figures["save_over_get"] = percentile(timings.by_kind["page save"], 0.5) / percentile(
        timings.by_kind["page GET"], 0.5
    )
    figures["submit_p99"] = percentile(timings.by_kind["intake submit"], 0.99) * 1000
    print(f"page-save p50 / page GET p50: **{figures['save_over_get']:.2f}**")
    return figures


def app_burst(pid: int, phones: list[Phone]) -> dict[str, float]:
    """Every phone at its final review, then all the final submits at once."""
    timings = Timings()
    for phone in phones:
        phone.timings = Timings()  # the filling before the burst is not counted
    with ThreadPoolExecutor(max_workers=len(phones)) as pool:
        ready, failed = [], Timings()

        def prepared(phone: Phone) -> tuple[str, dict[str, str]] | None:
            try:
                return phone.until_final_review()
            except (Failed, httpx.HTTPError) as exc:
                failed.failures.append(str(exc)[:80])
                return None

        states = list(pool.map(prepared, phones))
        phones = [p for p, s in zip(phones, states, strict=True) if s is not None]
        ready = [s for s in states if s is not None]
        if failed.failures:
            print(f"\n{len(failed.failures)} phones failed before the burst: {failed.failures}")
        for phone in phones:
            phone.timings = timings
        barrier = threading.Barrier(len(phones) + 1)

        def go(phone: Phone, state: tuple[str, dict[str, str]]) -> None:
            barrier.wait(60)
            try:
                phone.submit(*state)
            except (Failed, httpx.HTTPError) as exc:
                timings.failures.append(str(exc)[:80])

        futures = [pool.submit(go, p, s) for p, s in zip(phones, ready, strict=True)]
        cpu = cpu_seconds(pid)
        barrier.wait(60)
        started = time.monotonic()
        for future in futures:
            future.result()
        wall = time.monotonic() - started
    used = cpu_seconds(pid) - cpu
    print(f"\n### the application: {len(phones)} final submits at once\n")
    figures = _table(timings, wall, used, 0.0)
    print(f"burst throughput: **{len(phones) / wall:.1f} submits/s**")
    figures["burst"] = len(phones) / wall
    return figures


def floor(url: str, env: dict[str, str], clients: int, seconds: float) -> dict[str, float]:
    """The floor app: the same clients POSTing one row each, in a loop, then a burst."""
    _floor.prepare(url)
    command = [python(), "-m", "uvicorn", "--factory", "_floor:create_app", "--app-dir", "bench"]
    command += ["--log-level", "warning"]
    with server(command, {**env, "FLOOR_DATABASE_URL": url}, "/healthz") as (base, pid):
        http = [httpx.Client(base_url=base, timeout=60) for _ in range(clients)]
        timings, until = Timings(), time.monotonic() + seconds

        def loop(client: httpx.Client) -> None:
            while time.monotonic() < until:
                floor_post(client, BODY, timings, "floor POST")

        cpu, started = cpu_seconds(pid), time.monotonic()
        with PeakMemory(pid) as memory, ThreadPoolExecutor(max_workers=clients) as pool:
            list(pool.map(loop, http))
        wall, used = time.monotonic() - started, cpu_seconds(pid) - cpu
        print(f"\n### the floor: {clients} clients POSTing for {seconds:.0f} s\n")
        figures = _table(timings, wall, used, memory.peak)
        burst, barrier = Timings(), threading.Barrier(clients + 1)
        with ThreadPoolExecutor(max_workers=clients) as pool:

            def once(client: httpx.Client) -> None:
                barrier.wait(60)
                floor_post(client, BODY, burst, "floor burst POST")

            futures = [pool.submit(once, c) for c in http]
            barrier.wait(60)
            started = time.monotonic()
            for future in futures:
                future.result()
            wall = time.monotonic() - started
        figures["burst"] = clients / wall
        print(f"\nfloor burst: {clients} POSTs at once, **{figures['burst']:.1f} POST/s**")
        for client in http:
            client.close()
    return figures


def slow_upload(base: str, phone: Phone, other: Phone, seconds: float) -> None:
    """One phone trickles a page save over `seconds`; another saves every 100 ms."""
    intake_id, _fields = other.until_final_review()
    own_id, _ = phone.until_final_review()
    page = other.client.get(f"/fill/{intake_id}")
    data = {"csrf_token": _token(page.text), "_action": "back"}

    def probe(count: int) -> list[float]:
        times = []
        for _ in range(count):
            started = time.perf_counter()
            other.client.post(f"/fill/{intake_id}", data=data)
            times.append((time.perf_counter() - started) * 1000)
            time.sleep(0.1)
        return times

    quiet = probe(20)
    answer: list[int] = []
    slow = f"csrf_token={_token(phone.client.get(f'/fill/{own_id}').text)}&_action=back"
    trickler = threading.Thread(
        target=lambda: answer.append(
            trickle(base, f"/fill/{own_id}", phone.client.cookies, slow.encode(), seconds)
        )
    )
    trickler.start()
    time.sleep(0.3)
    during = probe(int(seconds / 0.12))
    trickler.join(seconds + 60)
    print(f"\n### a {seconds:.0f} s trickled upload while another phone saves every 100 ms\n")
    print(f"saves before: p50 {percentile(quiet, 0.5):.0f} ms, max {max(quiet):.0f} ms")
    print(
        f"saves during: p50 {percentile(during, 0.5):.0f} ms, max {max(during):.0f} ms; "
        f"**delay at worst {max(during) - percentile(quiet, 0.5):.0f} ms**; "
        f"the trickled POST answered {answer}"
    )


def _token(html: str) -> str:
    from _load_client import token

    return token(html)


def failed_sign_ins(base: str, pid: int, clients: int, seconds: float) -> None:
    """`clients` clients failing sign-ins; /healthz probed every 20 ms; peak memory."""
    until, statuses, health = time.monotonic() + seconds, Timings(), Timings()

    def attacker(_n: int) -> None:
        with httpx.Client(base_url=base, timeout=60, headers={"Origin": base}) as client:
            form = _token(client.get("/login").text)
            while time.monotonic() < until:
                data = {"username": "nobody." + secrets.token_hex(4), "password": "wrong!" * 3}
                started = time.perf_counter()
                done = client.post("/login", data={**data, "csrf_token": form})
                statuses.add("failed sign-in", time.perf_counter() - started, done.status_code)

    def prober() -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            while time.monotonic() < until:
                started = time.perf_counter()
                status = client.get("/healthz").status_code
                health.add("/healthz", time.perf_counter() - started, status)
                time.sleep(0.02)

    with PeakMemory(pid) as memory, ThreadPoolExecutor(max_workers=clients + 1) as pool:
        jobs = [pool.submit(attacker, n) for n in range(clients)] + [pool.submit(prober)]
        for job in jobs:
            job.result()
    print(f"\n### {clients} clients failing sign-ins for {seconds:.0f} s\n")
    ms = [v * 1000 for v in health.by_kind["/healthz"]]
    print(
        f"/healthz p50 {percentile(ms, 0.5):.1f} ms, **p99 {percentile(ms, 0.99):.1f} ms**, "
        f"max {max(ms):.0f} ms; **peak RSS {memory.peak:.0f} MB**; sign-in answers "
        f"{dict(statuses.statuses)}"
    )


def opens(base: str, phones: list[Phone], count: int) -> None:
    """`count` simultaneous page opens (each its own connection) by the signed-in phones."""
    barrier, statuses = threading.Barrier(count), Timings()

    def open_one(n: int) -> None:
        cookies = phones[n % len(phones)].client.cookies
        with httpx.Client(base_url=base, timeout=60, cookies=cookies) as client:
            barrier.wait(60)
            started = time.perf_counter()
            status = client.get("/intake/new").status_code
            statuses.add("open", time.perf_counter() - started, status)

    with ThreadPoolExecutor(max_workers=count) as pool:
        list(pool.map(open_one, range(count)))
    ms = [v * 1000 for v in statuses.by_kind["open"]]
    print(
        f"\n{count} simultaneous page opens: statuses {dict(statuses.statuses)}, "
        f"p50 {percentile(ms, 0.5):.0f} ms, max {max(ms):.0f} ms"
    )


def run(kind: str, args: argparse.Namespace) -> None:
    with installation(kind, args.phones) as (url, env):
        command = [python(), "-m", "intake.cli", "serve"]
        if args.workers:
            command += ["--workers", str(args.workers)]
        with server(command, env, "/healthz") as (base, pid):
            phones = _sign_in_all(base, args.phones, Timings())
            app = app_load(base, pid, phones, args.seconds, args.profile)
            if args.burst:
                app.update({"burst": app_burst(pid, phones)["burst"]})
            for count in args.opens:
                opens(base, phones, count)
            if args.slow_upload:
                slow_upload(base, phones[0], phones[1], args.slow_upload)
            if args.failed_sign_ins:
                failed_sign_ins(base, pid, args.failed_sign_ins, args.seconds)
            for phone in phones:
                phone.client.close()
        base_floor = floor(url, env, args.phones, min(args.seconds, 10))
    print(f"\n### {kind}: the application against the floor\n")
    print(f"- all requests: app {app['rate']:.1f} req/s / floor {base_floor['rate']:.1f} POST/s "
          f"= **{app['rate'] / base_floor['rate']:.3f}**")  # fmt: skip
    print(f"- CPU per request: app {app['cpu_ms']:.2f} ms / floor {base_floor['cpu_ms']:.2f} ms "
          f"= **{app['cpu_ms'] / base_floor['cpu_ms']:.1f}x**")  # fmt: skip
    if "burst" in app:
        print(f"- burst: app {app['burst']:.1f} submits/s / floor {base_floor['burst']:.1f} "
              f"POST/s = **{app['burst'] / base_floor['burst']:.3f}**")  # fmt: skip
    print(f"- intake submit p99 {app['submit_p99']:.0f} ms; page save p50 / page GET p50 "
          f"{app['save_over_get']:.2f}; responses >= 500: {app['errors']:.0f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--workers", type=int, default=0, help="intake serve --workers")
    parser.add_argument("--no-burst", dest="burst", action="store_false")
    parser.add_argument("--slow-upload", type=float, default=0, metavar="SECONDS")
    parser.add_argument("--failed-sign-ins", type=int, default=0, metavar="N")
    parser.add_argument("--opens", default="", help="simultaneous page opens, e.g. 60,120")
    parser.add_argument("--profile", default="", help="py-spy's collapsed stacks to this file")
    parser.add_argument("--full", action="store_true", help="every mode, 60 s, both databases")
    args = parser.parse_args()
    if args.full:
        args.seconds, args.db, args.slow_upload = max(args.seconds, 60), "both", 8
        args.failed_sign_ins, args.opens = 40, args.opens or "60,120"
    args.opens = [int(n) for n in args.opens.split(",") if n]
    for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        run(kind, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
