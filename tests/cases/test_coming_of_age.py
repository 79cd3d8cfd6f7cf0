"""Coming of age: the countdown from 30 days before, the attention list on the day, and
the supervisor's one action that moves her to the adult track, with history and audit."""

from __future__ import annotations

import datetime as dt
import json

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import coming_of_age
from intake.cases.models import Case
from intake.config import Settings
from intake.db import utcnow
from intake.forms.storage import keyring_for
from intake.security.field_crypto import encrypt_value
from tests.conftest import SEALING, login, page_token

from .helpers import GIRL_16, audit_rows, history_of, open_case, reload, submit

NOW = utcnow()
TODAY = NOW.date()


def _girl(db: Session, worker: User, *, age: int, days_ago: int) -> Case:
    """A girl's case whose first contact, `days_ago` days ago, gave her age."""
    case = open_case(db, worker, GIRL_16)
    assert case.track == "young_girls"
    row = submit(db, case, "first_contact", worker, {"age": age, "gender": "female"})
    row.submitted_at = NOW - dt.timedelta(days=days_ago)
    db.commit()
    return case


def _heading(client: TestClient, case: Case) -> str | None:
    page = BeautifulSoup(client.get(f"/cases/{case.id}").text, "html.parser")
    found = page.select_one("#coming-of-age h2")
    return found.get_text(" ", strip=True) if found else None


def test_the_countdown_shows_from_thirty_days_before(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    # 17 at intake: 18 a year after the intake day at the latest.
    intake_day = TODAY - dt.timedelta(days=340)
    soon = _girl(db, worker, age=17, days_ago=340)
    due = intake_day.replace(year=intake_day.year + 1)
    later = _girl(db, worker, age=17, days_ago=300)
    login(client, supervisor.username)
    assert _heading(client, soon) == f"Turns 18 in {(due - TODAY).days} days"
    assert 0 < (due - TODAY).days <= 30
    assert _heading(client, later) is None
    page = BeautifulSoup(client.get(f"/cases/{soon.id}").text, "html.parser")
    assert "Estimated from the age given at intake" in page.select_one("#coming-of-age").text
    # Not yet the day: no button, and nobody on the attention list.
    assert page.select("#coming-of-age form") == []
    assert coming_of_age.cases_coming_of_age(db=db, user=supervisor, today=TODAY) == []


def test_on_the_day_the_supervisor_moves_her_with_one_action(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = _girl(db, worker, age=17, days_ago=400)
    listed = coming_of_age.cases_coming_of_age(db=db, user=supervisor, today=TODAY)
    assert [c.case_id for c in listed] == [case.id]
    assert (listed[0].track, listed[0].state) == ("standard", "urgent_assistance")
    assert coming_of_age.cases_coming_of_age(db=db, user=worker, today=TODAY) == []
    login(client, supervisor.username)
    page = BeautifulSoup(client.get(f"/cases/{case.id}").text, "html.parser")
    assert page.select_one("#coming-of-age h2").get_text(strip=True).startswith("Turned 18 on")
    [button] = page.select("#coming-of-age form button")
    assert "Move to" in button.get_text()
    token = page_token(client, f"/cases/{case.id}")
    answer = client.post(
        f"/cases/{case.id}/coming-of-age",
        data={"csrf_token": token, "row_version": reload(db, case).row_version},
    )
    assert answer.status_code == 303
    moved = reload(db, case)
    assert (moved.track, moved.state) == ("standard", "urgent_assistance")
    [change] = [h for h in history_of(db, case.id) if h.kind == "track_changed"]
    assert (change.from_state, change.to_state, change.actor_id) == (
        "urgent_assistance",
        "urgent_assistance",
        supervisor.id,
    )
    [audit] = audit_rows(db, case.id, "case.track_changed")
    assert audit.detail == "track=standard state=urgent_assistance"
    # Moved: no longer on the list, no countdown on the page.
    assert coming_of_age.cases_coming_of_age(db=db, user=supervisor, today=TODAY) == []
    assert _heading(client, case) is None


def test_a_move_before_the_day_or_by_a_worker_is_refused_and_changes_nothing(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = _girl(db, worker, age=17, days_ago=340)
    login(client, supervisor.username)
    token = page_token(client, f"/cases/{case.id}")
    early = client.post(
        f"/cases/{case.id}/coming-of-age",
        data={"csrf_token": token, "row_version": case.row_version},
    )
    assert early.status_code == 422
    assert "has not come of age yet" in early.text
    assert reload(db, case).track == "young_girls"
    assert [a.detail for a in audit_rows(db, case.id, "case.came_of_age")] == ["not_due"]
    client.cookies.clear()
    login(client, worker.username)
    token = page_token(client, "/")
    refused = client.post(
        f"/cases/{case.id}/coming-of-age",
        data={"csrf_token": token, "row_version": case.row_version},
    )
    assert refused.status_code == 403
    assert reload(db, case).track == "young_girls"


def test_a_sealed_birth_date_counts_exactly_when_the_keys_are_at_hand(
    db: Session, worker: User, supervisor: User, settings: Settings
) -> None:
    case = open_case(db, worker, GIRL_16)
    row = submit(db, case, "first_contact", worker, {"gender": "female"})
    born = (TODAY - dt.timedelta(days=3)).replace(year=TODAY.year - 18)
    token = encrypt_value(
        keyring=keyring_for(SEALING),
        value=json.dumps(born.isoformat()),
        context=f"submission:{row.id}:birth_date",
    )
    row.answers = {"gender": "female", "birth_date": token}
    db.commit()
    found = coming_of_age.coming_of_age(db=db, settings=settings, case=case, today=TODAY)
    assert found is not None
    assert (found.days_left, found.estimated) == (
        (born.replace(year=born.year + 18) - TODAY).days,
        False,
    )
    listed = coming_of_age.cases_coming_of_age(
        db=db, user=supervisor, today=TODAY, settings=settings
    )
    assert [c.case_id for c in listed] == [case.id]
    # Without the keys a sealed birth date stays sealed: the case is not guessed at.
    assert coming_of_age.cases_coming_of_age(db=db, user=supervisor, today=TODAY) == []


def test_a_case_on_the_adult_track_has_no_countdown(
    db: Session, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    row = submit(db, case, "first_contact", worker, {"age": 17})
    row.submitted_at = NOW - dt.timedelta(days=400)
    db.commit()
    assert coming_of_age.coming_of_age(db=db, settings=None, case=case, today=TODAY) is None


@hypothesis_settings(deadline=None)
@given(
    born=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)),
    after=st.integers(min_value=0, max_value=18 * 366),
)
def test_an_age_given_at_intake_never_moves_a_child_before_her_birthday(
    born: dt.date, after: int
) -> None:
    intake_day = born + dt.timedelta(days=after)
    age = (
        intake_day.year - born.year - ((intake_day.month, intake_day.day) < (born.month, born.day))
    )
    estimate = coming_of_age.estimated_due(intake_day=intake_day, age=age, years=18)
    true_day = coming_of_age.add_years(born, 18)
    assert estimate >= true_day
    # ... and at most a year late.
    assert (estimate - true_day).days <= 366
