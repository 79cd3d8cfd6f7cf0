"""The supervisor dashboard as a supervisor reads it: the counts of their organisation only."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases import stage_counts
from intake.cases.models import Case, CaseHistory
from intake.db import utcnow
from intake.i18n import format_date
from tests.conftest import login, make_user

from .helpers import GIRL_16, open_case

DAY = dt.timedelta(days=1)


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def _text(node: Tag | None) -> str:
    assert node is not None, "the page lacks an element it should show"
    return " ".join(node.get_text(" ").split())


def _width(line: Tag) -> float:
    rect = line.select_one("rect")
    assert rect is not None
    return float(str(rect["width"]))


def _place(
    db: Session,
    case: Case,
    stays: list[tuple[str, dt.datetime]],
    *,
    closed: dt.datetime | None = None,
) -> Case:
    """Rewrite a case's past: it entered each (stage, moment) in turn, the last one it is in."""
    created_row = db.execute(
        select(CaseHistory).where(CaseHistory.case_id == case.id, CaseHistory.kind == "created")
    ).scalar_one()
    created_row.at = stays[0][1]
    previous = stays[0][0]
    for state, at in stays[1:]:
        db.add(
            CaseHistory(
                case_id=case.id,
                at=at,
                kind="transition",
                from_state=previous,
                to_state=state,
                workflow_version_id=case.workflow_version_id,
            )
        )
        previous = state
    case.created_at = stays[0][1]
    case.state, case.state_entered_at = stays[-1]
    case.last_activity_at = stays[-1][1]
    case.closed_at = closed
    # Rewriting the past bypasses record_case_event: the dashboard's counts follow here.
    stage_counts.moved(db=db, before=stage_counts.stored_key(case), after=stage_counts.key_of(case))
    db.commit()
    return case


@pytest.fixture
def now() -> dt.datetime:
    return utcnow()


@pytest.fixture
def cases(db: Session, worker: User, now: dt.datetime) -> dict[str, Case]:
    """Org A's cases: two tracks, several stages, one overdue, one at its limit, two closed."""

    def opened(answers: dict[str, object] | None = None) -> Case:
        return open_case(db, worker, answers)

    return {
        "fresh": _place(db, opened(), [("urgent_assistance", now - DAY)]),
        "overdue": _place(db, opened(), [("urgent_assistance", now - 5 * DAY)]),
        # Three whole days in a three-day stage: at its limit, not past it.
        "at_limit": _place(
            db, opened(), [("urgent_assistance", now - 3 * DAY - dt.timedelta(hours=12))]
        ),
        "housed": _place(
            db,
            opened(),
            [("urgent_assistance", now - 20 * DAY), ("temporary_housing", now - 10 * DAY)],
        ),
        "closed": _place(
            db,
            opened(),
            [
                ("urgent_assistance", now - 30 * DAY),
                ("temporary_housing", now - 28 * DAY),
                ("closed", now - 2 * DAY),
            ],
            closed=now - 2 * DAY,
        ),
        "closed_long_ago": _place(
            db,
            opened(),
            [("urgent_assistance", now - 400 * DAY), ("closed", now - 390 * DAY)],
            closed=now - 390 * DAY,
        ),
        "girl": _place(db, opened(GIRL_16), [("urgent_assistance", now - DAY)]),
    }


@pytest.fixture
def elsewhere(db: Session, other_org: Organisation, now: dt.datetime) -> list[Case]:
    """Another organisation's cases, overdue and closed, which Org A must never count."""
    other_worker = make_user(db, other_org, "outreach_worker", "worker-b")
    return [
        _place(db, open_case(db, other_worker), [("urgent_assistance", now - 9 * DAY)]),
        _place(db, open_case(db, other_worker, GIRL_16), [("urgent_assistance", now - 9 * DAY)]),
        _place(
            db,
            open_case(db, other_worker),
            [("urgent_assistance", now - 3 * DAY), ("closed", now - DAY)],
            closed=now - DAY,
        ),
    ]


def _dashboard(client: TestClient, user: User) -> BeautifulSoup:
    login(client, user.username)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    return _soup(page.text)


def _table(soup: BeautifulSoup, chart: str) -> dict[str, list[str]]:
    table = soup.select_one(f"table[data-chart='{chart}']")
    assert table is not None, chart
    return {
        _text(row.th): [_text(cell) for cell in row.select("td")]
        for row in table.select("tbody tr")
    }


def _bars(soup: BeautifulSoup, chart: str) -> dict[str, list[tuple[str, float]]]:
    """Each bar row's label, with every bar's printed number and drawn width."""
    figure = soup.select_one(f".dash-chart[data-chart='{chart}']")
    assert figure is not None, chart
    return {
        _text(row.select_one(".dash-label")): [
            (_text(line.select_one(".dash-num")), _width(line)) for line in row.select(".dash-line")
        ]
        for row in figure.select(".dash-row")
    }


def test_open_cases_by_stage_and_track_count_only_the_organisation(
    client: TestClient, supervisor: User, cases: dict[str, Case], elsewhere: list[Case]
) -> None:
    soup = _dashboard(client, supervisor)
    assert _text(soup.select_one("#open-total")) == "5"
    assert _text(soup.select_one("#overdue-total")) == "1"
    assert _text(soup.select_one("#closed-total")) == "2"
    standard = _table(soup, "stages-standard")
    assert standard["Urgent assistance"] == ["3", "1"]
    assert standard["Temporary housing"] == ["1", "0"]
    # A stage nobody is in is left out, until asked for.
    assert "Psychological support" not in standard
    assert "Psychological support" not in _bars(soup, "stages-standard")
    every = _soup(client.get("/dashboard?zeros=1").text)
    assert _table(every, "stages-standard")["Psychological support"] == ["0", "0"]
    assert "Closed" not in standard
    girls = _table(soup, "stages-young_girls")
    assert girls["Urgent assistance"] == ["1", "0"]
    assert sum(int(cells[0]) for cells in girls.values()) == 1


def test_overdue_cases_link_to_their_pages_and_nothing_else_is_listed(
    client: TestClient, supervisor: User, cases: dict[str, Case], elsewhere: list[Case]
) -> None:
    soup = _dashboard(client, supervisor)
    rows = soup.select("#overdue tr.overdue-case")
    assert len(rows) == 1
    link = rows[0].select_one("a")
    assert link is not None
    assert link["href"] == f"/cases/{cases['overdue'].id}"
    assert _text(link) == cases["overdue"].reference
    assert [_text(td) for td in rows[0].select("td")] == [
        "Urgent assistance (Standard assistance)",
        "5",
        "3",
    ]
    page = str(soup)
    for other in elsewhere:
        assert other.reference not in page
        assert other.id not in page


def test_overdue_cases_are_the_case_pages_overdue_cases(
    client: TestClient, supervisor: User, cases: dict[str, Case]
) -> None:
    soup = _dashboard(client, supervisor)
    listed = {a["href"] for a in soup.select("#overdue tr.overdue-case a")}
    for case in cases.values():
        marked = bool(_soup(client.get(f"/cases/{case.id}").text).select(".overdue"))
        assert (f"/cases/{case.id}" in listed) == marked, case.state


def test_median_days_in_each_stage_count_finished_and_ongoing_stays(
    client: TestClient, supervisor: User, cases: dict[str, Case], elsewhere: list[Case]
) -> None:
    soup = _dashboard(client, supervisor)
    # Urgent assistance, standard track: finished stays of 10 and 2 days; ongoing
    # ones of 1, 5 and 3.5 days; the stay that ended 390 days ago is too old.
    standard = _table(soup, "medians-standard")
    assert standard["Urgent assistance"] == ["3.5", "5", "3"]
    # Temporary housing: 26 days finished, 10 days ongoing.
    assert standard["Temporary housing"] == ["18", "2", "1"]
    assert "Closed" not in standard
    assert _table(soup, "medians-young_girls") == {"Urgent assistance": ["1", "1", "1"]}


def test_new_and_closed_cases_per_week_over_twelve_weeks(
    client: TestClient,
    supervisor: User,
    cases: dict[str, Case],
    elsewhere: list[Case],
    now: dt.datetime,
) -> None:
    soup = _dashboard(client, supervisor)
    weeks = _table(soup, "weeks")
    assert len(weeks) == 12

    def week_of(moment: dt.datetime) -> str:
        day = moment.date()
        return f"Week of {format_date(day - dt.timedelta(days=day.weekday()))}"

    this_week = week_of(now)
    assert list(weeks)[-1] == this_week
    recent = [c for c in cases.values() if now - c.created_at < dt.timedelta(weeks=11)]
    opened = Counter(week_of(c.created_at) for c in recent)
    closed = Counter([week_of(now - 2 * DAY)])
    for label, (new, gone) in weeks.items():
        assert (int(new), int(gone)) == (opened[label], closed[label]), label
    assert sum(int(new) for new, _gone in weeks.values()) == 6


@pytest.mark.parametrize(
    "chart", ["stages-standard", "stages-young_girls", "medians-standard", "weeks"]
)
def test_every_bar_shows_the_number_of_its_table_row_at_a_proportional_width(
    client: TestClient, supervisor: User, cases: dict[str, Case], chart: str
) -> None:
    soup = _dashboard(client, supervisor)
    table = _table(soup, chart)
    bars = _bars(soup, chart)
    assert list(bars) == list(table)
    numbers = {label: [float(n) for n, _width in drawn] for label, drawn in bars.items()}
    for label, drawn in bars.items():
        assert [n for n, _width in drawn] == table[label][: len(drawn)]
    top = max(max(values) for values in numbers.values())
    assert top > 0
    for label, drawn in bars.items():
        for (printed, width), value in zip(drawn, numbers[label], strict=True):
            assert width == pytest.approx(value / top * 100, abs=0.01), (label, printed)


def test_tables_are_accessible_and_the_bars_are_not_read_twice(
    client: TestClient, supervisor: User, cases: dict[str, Case]
) -> None:
    soup = _dashboard(client, supervisor)
    tables = soup.select("table.dash-table")
    assert len(tables) == len(soup.select(".dash-chart")) == 5
    for table in tables:
        assert _text(table.caption)
        assert all(th.get("scope") == "col" for th in table.select("thead th"))
        assert all(th.get("scope") == "row" for th in table.select("tbody th"))
    for chart in soup.select(".dash-chart"):
        assert chart["aria-hidden"] == "true"
    assert soup.select("[style]") == []
    assert soup.select("script:not([src])") == []


def test_labels_and_numbers_follow_the_readers_language(
    db: Session, client: TestClient, supervisor: User, cases: dict[str, Case]
) -> None:
    supervisor.locale = "lt"
    db.commit()
    soup = _dashboard(client, supervisor)
    standard = _table(soup, "stages-standard")
    assert standard["Skubi pagalba"] == ["3", "1"]
    medians = _table(soup, "medians-standard")
    # 3.5 days, with the Lithuanian decimal comma.
    assert medians["Skubi pagalba"][0] == "3,5"
    assert medians["Laikinas apgyvendinimas"][0] == "18"


def test_the_nav_links_the_dashboard_for_supervisors_only(
    db: Session, client: TestClient, supervisor: User, worker: User
) -> None:
    soup = _dashboard(client, supervisor)
    assert soup.select("nav a[href='/dashboard']")
    client.cookies.clear()
    login(client, worker.username)
    assert _soup(client.get("/account/password").text).select("nav a[href='/dashboard']") == []


@pytest.mark.parametrize("role", ["outreach_worker", "admin"])
def test_outreach_workers_and_administrators_are_refused(
    db: Session, client: TestClient, org: Organisation, role: str, cases: dict[str, Case]
) -> None:
    user = make_user(db, org, role, f"someone-{role}")
    login(client, user.username)
    page = client.get("/dashboard")
    assert page.status_code == 403
    for case in cases.values():
        assert case.reference not in page.text


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 303
    assert page.headers["location"] == "/login"


def test_an_organisation_without_cases_sees_zeros(
    db: Session, client: TestClient, other_org: Organisation, cases: dict[str, Case]
) -> None:
    boss = make_user(db, other_org, "supervisor", "boss-b")
    soup = _dashboard(client, boss)
    assert [_text(soup.select_one(f"#{k}-total")) for k in ("open", "overdue", "closed")] == [
        "0",
        "0",
        "0",
    ]
    assert _text(soup.select_one("#stages")).endswith("No open cases.")
    assert all(cells == ["0", "0"] for cells in _table(soup, "weeks").values())
