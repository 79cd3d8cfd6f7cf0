"""The case list opens where there is something to see, and a supervisor's "Attention"
list holds the cases someone should act on: overdue, or waiting on a form."""

from __future__ import annotations

import datetime as dt

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases import caseload
from intake.cases.models import Case
from intake.db import utcnow
from intake.referrals.models import Referral
from tests.conftest import login, make_user

from .helpers import GIRL_16, open_case, submit


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def _current_tab(soup: BeautifulSoup) -> str:
    [current] = soup.select(".tabs a[aria-current=page]")
    return str(current["data-tab"])


def _listed(soup: BeautifulSoup) -> dict[str, str]:
    return {
        row.select_one(".reference").get_text(strip=True): " ".join(row.get_text(" ").split())
        for row in soup.select(".case-row")
    }


def _at(db: Session, case: Case, state: str, days: int) -> Case:
    case.state = state
    case.state_entered_at = utcnow() - dt.timedelta(days=days)
    db.commit()
    return case


def test_a_supervisor_opens_on_the_organisations_cases(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)  # the worker's case: none is the supervisor's own
    login(client, supervisor.username)
    soup = _soup(client.get("/cases").text)
    assert _current_tab(soup) == "organisation"
    assert list(_listed(soup)) == [case.reference]
    tabs = [a["data-tab"] for a in soup.select(".tabs a")]
    assert tabs == ["organisation", "attention", "mine", "overdue"]
    # A tab asked for is the tab shown, empty or not.
    mine = _soup(client.get("/cases?tab=mine").text)
    assert _current_tab(mine) == "mine" and _listed(mine) == {}


def test_without_cases_the_first_list_is_shown_and_a_worker_opens_on_their_own(
    db: Session, client: TestClient, org: Organisation, worker: User, supervisor: User
) -> None:
    login(client, supervisor.username)
    assert _current_tab(_soup(client.get("/cases").text)) == "organisation"
    case = open_case(db, worker)
    colleague = make_user(db, org, "outreach_worker", "colleague")
    open_case(db, colleague)
    client.cookies.clear()
    login(client, worker.username)
    soup = _soup(client.get("/cases").text)
    assert _current_tab(soup) == "mine"
    assert list(_listed(soup)) == [case.reference]
    assert [a["data-tab"] for a in soup.select(".tabs a")] == ["mine", "overdue"]
    # A worker asking for a supervisor's list gets their own.
    assert _current_tab(_soup(client.get("/cases?tab=attention").text)) == "mine"


def test_the_attention_list_holds_overdue_cases_and_cases_waiting_on_a_form(
    db: Session,
    client: TestClient,
    worker: User,
    supervisor: User,
    other_org: Organisation,
) -> None:
    overdue = _at(db, open_case(db, worker), "urgent_assistance", 10)
    waiting = _at(db, open_case(db, worker), "temporary_housing", 5)
    filled = _at(db, open_case(db, worker), "temporary_housing", 5)
    submit(db, filled, "housing_placement", worker)
    just_arrived = _at(db, open_case(db, worker), "temporary_housing", 1)
    closed = _at(db, open_case(db, worker), "urgent_assistance", 10)
    closed.closed_at = utcnow()
    db.commit()
    stranger = make_user(db, other_org, "outreach_worker", "stranger")
    foreign = _at(db, open_case(db, stranger), "urgent_assistance", 10)

    login(client, supervisor.username)
    page = client.get("/cases?tab=attention")
    assert page.status_code == 200
    soup = _soup(page.text)
    assert _current_tab(soup) == "attention"
    listed = _listed(soup)
    assert set(listed) == {overdue.reference, waiting.reference}
    assert "Overdue" in listed[overdue.reference]
    assert "Waiting on the Housing placement form" in listed[waiting.reference]
    for absent in (filled, just_arrived, closed, foreign):
        assert absent.reference not in page.text
    counts = {a["data-tab"]: a.select_one(".count").get_text() for a in soup.select(".tabs a")}
    assert counts["attention"] == "(2)"
    assert counts["organisation"] == "(4)"


def test_a_girl_who_has_come_of_age_is_on_the_attention_list(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    girl = open_case(db, worker, GIRL_16)
    recorded = submit(db, girl, "first_contact", worker, {"age": 17, "gender": "female"})
    recorded.submitted_at = utcnow() - dt.timedelta(days=400)  # she said 17, over a year ago
    younger = open_case(db, worker, GIRL_16)
    submit(db, younger, "first_contact", worker, {"age": 16, "gender": "female"})
    db.commit()
    login(client, supervisor.username)
    soup = _soup(client.get("/cases?tab=attention").text)
    listed = _listed(soup)
    assert girl.reference in listed and younger.reference not in listed
    assert "Turns 18: the case moves to the adult track" in listed[girl.reference]


def test_the_attention_list_links_to_incoming_referrals(
    db: Session,
    client: TestClient,
    org: Organisation,
    supervisor: User,
    other_org: Organisation,
) -> None:
    sender = make_user(db, other_org, "outreach_worker", "sender")
    theirs = open_case(db, sender)
    login(client, supervisor.username)
    quiet = _soup(client.get("/cases?tab=attention").text)
    assert quiet.select_one("#attention-referrals") is None
    db.add(
        Referral(
            case_id=theirs.id,
            from_organisation_id=other_org.id,
            to_organisation_id=org.id,
            service="psychological_support",
            created_by_id=sender.id,
        )
    )
    db.commit()
    soup = _soup(client.get("/cases?tab=attention").text)
    link = soup.select_one("#attention-referrals a")
    assert link is not None and link["href"] == "/referrals/incoming"
    assert " ".join(link.get_text().split()) == "1 incoming referral waits for an answer"
    # The other organisation's case is not this organisation's to list.
    assert theirs.reference not in _listed(soup)


def test_the_attention_list_is_exactly_the_cases_the_rules_name(
    db: Session, worker: User, supervisor: User, other_org: Organisation
) -> None:
    """Any mix of stages, days in them and filled forms, in two organisations: the list
    holds exactly the organisation's open cases that are overdue or have waited three
    days on a form their step forward needs."""
    stranger = make_user(db, other_org, "outreach_worker", "stranger")
    awaited = {
        "urgent_assistance": ("consent", "first_contact", "urgent_needs"),
        "temporary_housing": ("housing_placement",),
        "psychological_support": ("psychological_assessment",),
    }
    sla = {"urgent_assistance": 3, "temporary_housing": 30, "psychological_support": 90}
    expected: set[str] = set()

    @settings(
        max_examples=10,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        st.lists(
            st.tuples(
                st.sampled_from([*awaited, "closed"]),
                st.integers(0, 100),
                st.booleans(),
                st.booleans(),
            ),
            min_size=1,
            max_size=3,
        )
    )
    def listed_as_the_rules_say(specs: list[tuple[str, int, bool, bool]]) -> None:
        for state, days, filled, ours in specs:
            owner = worker if ours else stranger
            case = _at(db, open_case(db, owner), state, days)
            if state == "closed":
                case.closed_at = utcnow()
                db.commit()
                continue
            if filled:
                for key in awaited[state]:
                    submit(db, case, key, owner)
            if ours and (days > sla[state] or (not filled and days >= 3)):
                expected.add(case.id)
        query, _bad = caseload.filtered(
            db=db, user=supervisor, filters=caseload.Filters(tab="attention"), now=utcnow()
        )
        assert {case.id for case in db.execute(query).scalars()} == expected, specs

    listed_as_the_rules_say()
