"""A supervisor's save while clients fail sign-ins as fast as they can (Reliability, item 2).

Starts the real server (`intake serve`) on a fresh SQLite file, signs a supervisor in,
then lets N clients send wrong passwords in a loop while the supervisor saves
(POST /language, a write) every 100 ms. Prints the saves' median and max and the
sign-in attempts served. Run: `.venv/bin/python bench/sign_in_burst.py [--clients 4]`.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _start_server(base: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "INTAKE_VAR_DIR": str(base / "var"),
        "INTAKE_DATABASE_URL": f"sqlite:///{base / 'bench.sqlite3'}",
        "INTAKE_LOGIN_CLIENT_MAX_FAILURES": "100000",
        "INTAKE_MFA_ENFORCED": "false",  # the bench measures saves, not the second factor
    }
    run = [sys.executable, "-m", "intake.cli"]
    subprocess.run([*run, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        [*run, "users", "create", "sup", "--role", "supervisor", "--org", "Bench",
         "--password-stdin"],
        input=(PASSWORD + "\n").encode(), env=env, cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [*run, "serve", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return process, url


def measure(url: str, clients: int, saves: int) -> dict[str, float]:
    supervisor = httpx.Client(base_url=url, timeout=60)
    supervisor.post(
        "/login",
        data={"username": "sup", "password": PASSWORD,
              "csrf_token": _token(supervisor.get("/login").text)},
    )  # fmt: skip
    token = _token(supervisor.get("/").text)
    stop = threading.Event()
    attempts: list[int] = []

    def fail() -> None:
        with httpx.Client(base_url=url, timeout=60) as attacker:
            form_token = _token(attacker.get("/login").text)
            while not stop.is_set():
                data = {"username": "sup", "password": "wrong password!", "csrf_token": form_token}
                attempts.append(attacker.post("/login", data=data).status_code)

    threads = [threading.Thread(target=fail) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    durations, failures = [], 0
    for n in range(saves):
        started = time.monotonic()
        answer = supervisor.post("/language", data={"locale": "lt" if n % 2 else "en",
                                                    "csrf_token": token})  # fmt: skip
        durations.append(time.monotonic() - started)
        failures += answer.status_code != 303
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(60)
    return {
        "median_ms": statistics.median(durations) * 1000,
        "max_ms": max(durations) * 1000,
        "failed_saves": failures,
        "sign_in_attempts": len(attempts),
        "sign_in_5xx": sum(1 for s in attempts if s >= 500),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--saves", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, url = _start_server(Path(tmp))
        try:
            quiet = measure(url, 0, args.saves)
            burst = measure(url, args.clients, args.saves)
        finally:
            process.terminate()
            process.wait(10)
    print(f"save with no sign-ins:      median {quiet['median_ms']:.0f} ms, "
          f"max {quiet['max_ms']:.0f} ms")  # fmt: skip
    print(
        f"save while {args.clients} clients fail sign-ins: median {burst['median_ms']:.0f} ms, "
        f"max {burst['max_ms']:.0f} ms, failed saves {burst['failed_saves']}, "
        f"sign-in attempts {burst['sign_in_attempts']} ({burst['sign_in_5xx']} answered 5xx)"
    )


if __name__ == "__main__":
    main()
