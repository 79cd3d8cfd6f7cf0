"""A burst of failed sign-ins does not slow anyone else's save (issue: Reliability, item 2).

A real server process on a real SQLite file. Four clients send wrong passwords as fast
as they can (each check is a full argon2id, ~0.2 s and 64 MiB) while a supervisor saves;
before the write discipline every save waited behind those checks (median 0.7 s, up to
1.8 s). The bound below is generous; the figures are in bench/README.md.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.live_server import csrf_token, live_server, signed_in

SAVE_BOUND_SECONDS = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # The attackers' own address is blocked after many failures; the checks go on.
    with live_server(
        tmp_path_factory.mktemp("burst"),
        users=[("sup", "supervisor"), ("calm", "supervisor")],
        env={"INTAKE_LOGIN_CLIENT_MAX_FAILURES": "1000"},
    ) as url:
        yield url


def test_a_save_is_not_held_up_by_failing_sign_ins(server: str) -> None:
    supervisor = signed_in(server, "sup")
    token = csrf_token(supervisor.get("/").text)
    stop = threading.Event()
    attacker_statuses: list[int] = []

    def fail_sign_ins() -> None:
        with httpx.Client(base_url=server, timeout=30) as attacker:
            form_token = csrf_token(attacker.get("/login").text)
            while not stop.is_set():
                answer = attacker.post(
                    "/login",
                    data={
                        "username": "sup",
                        "password": "wrong password!",
                        "csrf_token": form_token,
                    },
                )
                attacker_statuses.append(answer.status_code)

    attackers = [threading.Thread(target=fail_sign_ins) for _ in range(4)]
    for attacker in attackers:
        attacker.start()
    time.sleep(1.0)  # the burst is under way
    durations, statuses = [], []
    for n in range(12):
        started = time.monotonic()
        answer = supervisor.post(
            "/language", data={"locale": "lt" if n % 2 else "en", "csrf_token": token}
        )
        durations.append(time.monotonic() - started)
        statuses.append(answer.status_code)
        time.sleep(0.1)
    stop.set()
    for attacker in attackers:
        attacker.join(30)
    assert statuses == [303] * 12
    assert attacker_statuses and set(attacker_statuses) <= {401}
    assert max(durations) < SAVE_BOUND_SECONDS, sorted(durations)


def test_a_slow_upload_holds_nobody_up(server: str) -> None:
    """A phone on a bad connection trickles its form in over seconds; nobody waits for it
    (the write lock is taken by the transaction, after the body has arrived)."""
    host, port = server.removeprefix("http://").split(":")
    supervisor = signed_in(server, "calm")
    token = csrf_token(supervisor.get("/").text)
    body = b"username=sup&password=" + b"x" * 200
    with socket.create_connection((host, int(port))) as slow:
        slow.sendall(
            b"POST /login HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:10]
        )
        durations = []
        for chunk in range(10, len(body), 20):
            slow.sendall(body[chunk : chunk + 20])  # 3 s in all
            started = time.monotonic()
            answer = supervisor.post("/language", data={"locale": "lt", "csrf_token": token})
            durations.append(time.monotonic() - started)
            assert answer.status_code == 303
            time.sleep(0.3)
    assert max(durations) < SAVE_BOUND_SECONDS, sorted(durations)


def test_forty_failing_sign_ins_leave_the_health_check_and_threads_free(server: str) -> None:
    """Sign-ins wait for a password-check slot on the event loop, not in a worker thread:
    forty at once are slowed, not refused (no 503), and the health check still answers."""
    form_token = csrf_token(httpx.get(server + "/login").text)
    statuses: list[int] = []
    start = threading.Barrier(40)

    def fail() -> None:
        with httpx.Client(base_url=server, timeout=60) as attacker:
            attacker.cookies.update(httpx.get(server + "/login").cookies)
            token = csrf_token(attacker.get("/login").text)
            start.wait(30)
            answer = attacker.post(
                "/login", data={"username": "nobody", "password": "x" * 20, "csrf_token": token}
            )
            statuses.append(answer.status_code)

    attackers = [threading.Thread(target=fail) for _ in range(40)]
    for attacker in attackers:
        attacker.start()
    time.sleep(0.5)
    health = []
    for _ in range(10):
        started = time.monotonic()
        assert httpx.get(server + "/healthz", timeout=30).status_code == 200
        health.append(time.monotonic() - started)
        time.sleep(0.1)
    for attacker in attackers:
        attacker.join(90)
    assert form_token
    assert sorted(set(statuses)) == [401], statuses
    # Generous: the machine is shared; bench/load.py --failed-sign-ins measures p99.
    assert max(health) < 3 * SAVE_BOUND_SECONDS, sorted(health)
