"""Caseloads: the lists each role has, keyset pages, filters, search and capped counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases import caseload
from intake.cases.models import Case
from intake.db import utcnow
from tests.conftest import login, make_user

from .flow import soup
from .helpers import GIRL_16, assign, open_case


def _references(html: str) -> list[str]:
    return [node.get_text(strip=True) for node in soup(html).select(".case-row .reference")]


def _next(html: str) -> str | None:
    link = soup(html).select_one("#next-page")
    return str(link["href"]) if link else None


@pytest.fixture
def statements(connection: Connection) -> Iterator[list[tuple[str, object]]]:
    seen: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", keep)
    yield seen
    event.remove(connection, "before_cursor_execute", keep)


def test_pages_walk_every_case_once_newest_first_without_offset(
    db: Session,
    client: TestClient,
    worker: User,
    supervisor: User,
    statements: list[tuple[str, object]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(caseload, "PAGE_SIZE", 5)
    made = [open_case(db, worker) for _ in range(12)]
    start = utcnow() - dt.timedelta(hours=1)
    for number, case in enumerate(made):
        # Four cases share one moment: the id breaks the tie, so none is lost or repeated.
        case.last_activity_at = start + dt.timedelta(minutes=min(number, 8))
    db.commit()
    expected = [
        c.reference for c in sorted(made, key=lambda c: (c.last_activity_at, c.id), reverse=True)
    ]
    login(client, supervisor.username)
    url: str | None = "/cases?tab=organisation"
    seen: list[str] = []
    pages = 0
    while url:
        statements.clear()
        page = client.get(url)
        assert page.status_code == 200
        if pages:
            [(listed, parameters)] = [
                (s, p) for s, p in statements if "FROM cases" in s and "ORDER BY" in s
            ]
            assert "(cases.last_activity_at, cases.id) <" in listed
            # SQLite's dialect always writes "OFFSET ?", bound to 0; PostgreSQL's writes none.
            if "OFFSET" in listed:
                assert isinstance(parameters, tuple | list) and parameters[-1] == 0
        seen += _references(page.text)
        url = _next(page.text)
        pages += 1
    assert pages == 3
    assert seen == expected


def test_filters_search_and_the_overdue_list(
    db: Session,
    client: TestClient,
    org: Organisation,
    other_org: Organisation,
    worker: User,
    supervisor: User,
) -> None:
    standard = open_case(db, worker)
    girl = open_case(db, worker, GIRL_16)
    late = open_case(db, worker)
    late.state_entered_at = utcnow() - dt.timedelta(days=5)  # urgent assistance: 2 days
    db.commit()
    foreign = open_case(db, make_user(db, other_org, "outreach_worker", "stranger"))
    login(client, supervisor.username)

    tracks = _references(client.get("/cases?tab=organisation&track=young_girls").text)
    assert tracks == [girl.reference]
    stage = client.get("/cases?tab=organisation&stage=urgent_assistance").text
    assert set(_references(stage)) == {standard.reference, girl.reference, late.reference}
    overdue = client.get("/cases?tab=overdue").text
    assert _references(overdue) == [late.reference]
    assert soup(overdue).select(".case-row.is-overdue .overdue")

    typed = standard.reference.lower().replace("-", " ")
    assert _references(client.get("/cases", params={"q": typed}).text) == [standard.reference]
    hidden = client.get("/cases", params={"q": foreign.reference}).text
    assert _references(hidden) == [] and "0 cases" in hidden
    garbled = client.get("/cases", params={"q": "not a ref"}).text
    assert "A reference has six letters and digits" in garbled


def test_a_worker_lists_own_and_team_cases_only(
    db: Session, client: TestClient, org: Organisation, worker: User, supervisor: User
) -> None:
    mine = open_case(db, worker)
    colleague = make_user(db, org, "outreach_worker", "colleague")
    theirs = open_case(db, colleague)
    helped = open_case(db, colleague)
    assign(db, supervisor, helped, worker, "social_worker")
    login(client, worker.username)
    page = client.get("/cases?tab=organisation").text  # not a worker's list: falls back
    assert set(_references(page)) == {mine.reference, helped.reference}
    assert theirs.reference not in page
    tabs = [a["data-tab"] for a in soup(page).select(".tabs a")]
    assert tabs == ["mine", "overdue"]


def test_large_counts_are_capped(
    db: Session, client: TestClient, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(caseload, "COUNT_CAP", 3)
    for _ in range(5):
        open_case(db, worker)
    login(client, worker.username)
    page = soup(client.get("/cases").text)
    assert page.select_one(".result-count").get_text(strip=True) == "3+ cases"
    mine = page.select_one(".tabs a[data-tab=mine] .count").get_text(strip=True)
    assert mine == "(3+)"
    monkeypatch.setattr(caseload, "COUNT_CAP", 1000)
    page = soup(client.get("/cases").text)
    assert page.select_one(".result-count").get_text(strip=True) == "5 cases"


def test_closed_cases_leave_the_open_lists(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    closed = open_case(db, worker)
    closed.closed_at = utcnow()
    closed.state = "closed"
    db.commit()
    login(client, supervisor.username)
    assert closed.reference not in client.get("/cases?tab=organisation").text
    assert _references(client.get("/cases?tab=organisation&stage=closed").text) == [
        closed.reference
    ]
    assert db.get(Case, closed.id) is not None
