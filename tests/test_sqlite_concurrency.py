"""Many people at once on the embedded SQLite database: slower, never refused.

A real server process on a real SQLite file; the requests arrive together
from threads, as phones on one team would.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.live_server import PASSWORD, csrf_token, live_server

PEOPLE = 12


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    team = [(f"w{n}", "outreach_worker") for n in range(PEOPLE)]
    with live_server(
        tmp_path_factory.mktemp("concurrency"), users=team, sync_definitions=True
    ) as url:
        yield url


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
    tokens = [csrf_token(client.get("/login").text) for client in clients]

    def sign_in(n: int) -> int:
        data = {"username": f"w{n}", "password": PASSWORD, "csrf_token": tokens[n]}
        return clients[n].post("/login", data=data).status_code

    assert _together(sign_in, PEOPLE) == [303] * PEOPLE

    starts = [csrf_token(client.get("/forms/urgent_needs/new").text) for client in clients]

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
