"""Overlap at intake: who is told what when two organisations may assist one person."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases.models import Case
from intake.overlap.models import OverlapMatch
from tests.conftest import login, make_user

from .flow import (
    CONSENT_SHARING,
    MEETING,
    SITUATION,
    fill_pages,
    give_consent,
    record_person,
    review,
    soup,
)

# One person written twice: in Cyrillic with a birth date at one organisation,
# in Latin letters with an age at the other.
AT_A = {"given_name": "Ольга", "family_name": "Петрова", "birth_date": "1990-05-04"}
A_SECRETS = ("Ольга", "Петрова", "1990-05-04", "4 May 1990", "May 4, 1990")
B_SECRETS = ("Olga", "Petrova")


def _at_b() -> dict[str, str]:
    age = dt.date.today().year - 1990 - 1
    return {"given_name": "Olga", "family_name": "Petrova", "age": str(age)}


def _case_of(db: Session, owner: User) -> Case:
    db.expire_all()
    return db.execute(select(Case).where(Case.owner_id == owner.id)).scalar_one()


def _visible_text(html: str) -> str:
    return soup(html).get_text(" ")


def _switch(client: TestClient, user: User) -> None:
    client.cookies.clear()
    login(client, user.username)


def test_another_organisation_learns_who_to_call_and_nothing_about_the_person(
    db: Session, client: TestClient, org: Organisation, other_org: Organisation
) -> None:
    org.contact = "Org A coordinator +370 5 000 0000"
    db.commit()
    worker_a = make_user(db, org, "outreach_worker", "worker-a")
    supervisor_a = make_user(db, org, "supervisor", "supervisor-a")
    worker_b = make_user(db, other_org, "outreach_worker", "worker-b")
    supervisor_b = make_user(db, other_org, "supervisor", "supervisor-b")

    # Both people agreed to sharing with the other's kind of organisation.
    login(client, worker_a.username)
    assert record_person(client, {**AT_A, "gender": "female"}, CONSENT_SHARING).status_code == 303
    case_a = _case_of(db, worker_a)

    _switch(client, worker_b)
    intake_id = give_consent(client, CONSENT_SHARING).removeprefix("/fill/")
    fill_pages(client, intake_id, [MEETING, {**_at_b(), "gender": "female"}, SITUATION])
    html, fields = review(client, intake_id)
    [warning] = html.select("#overlap-warning li")
    said = " ".join(warning.get_text(" ").split())
    assert "exists at Org A" in said and "Org A coordinator +370 5 000 0000" in said
    reviewed = client.get(f"/fill/{intake_id}").text
    for leaked in (*A_SECRETS, case_a.reference, case_a.id):
        assert leaked not in reviewed
    assert html.select("#confirm-new") == []  # another organisation's case blocks nothing
    opened = client.post(f"/fill/{intake_id}/submit", data=fields)
    assert opened.status_code == 303
    case_b = _case_of(db, worker_b)
    match = db.execute(select(OverlapMatch)).scalar_one()
    assert (match.case_id, match.other_case_id) == (case_b.id, case_a.id)

    # The worker and the supervisor of B are told on B's case page; A's supervisor on A's.
    for user, case, own, other, secrets in [
        (worker_b, case_b, "Org B", "Org A", A_SECRETS),
        (supervisor_b, case_b, "Org B", "Org A", A_SECRETS),
        (supervisor_a, case_a, "Org A", "Org B", B_SECRETS),
    ]:
        _switch(client, user)
        page = client.get(f"/cases/{case.id}")
        assert page.status_code == 200
        said = " ".join(soup(page.text).select_one("#overlaps").get_text(" ").split())
        assert f"exists at {other}" in said, user.username
        for leaked in secrets:
            assert leaked not in page.text, (user.username, leaked)
        theirs = case_a if case is case_b else case_b
        assert theirs.reference not in page.text and theirs.id not in page.text
        assert own not in said


def test_the_same_organisation_offers_the_open_case_and_asks_before_a_second(
    db: Session, client: TestClient, org: Organisation, worker: User, supervisor: User
) -> None:
    woman = {"given_name": "Ona", "family_name": "Petraitė", "birth_date": "1990-05-04"}
    login(client, worker.username)
    record_person(client, {**woman, "gender": "female"})
    first = _case_of(db, worker)
    colleague = make_user(db, org, "outreach_worker", "colleague")

    _switch(client, colleague)
    intake_id = give_consent(client).removeprefix("/fill/")
    fill_pages(client, intake_id, [MEETING, {**woman, "gender": "female"}, SITUATION])
    html, fields = review(client, intake_id)
    [offer] = html.select("#overlap-warning li.same-organisation")
    assert first.reference in offer.get_text()
    # The colleague is not on that case: the reference is given, not a link that would 404.
    assert offer.select("a") == [] and "Ask your supervisor" in offer.get_text()
    assert html.select_one("#confirm-new") is not None
    unconfirmed = client.post(f"/fill/{intake_id}/submit", data=fields)
    assert unconfirmed.status_code == 409
    assert "confirm that you are opening a new one" in unconfirmed.text
    db.expire_all()
    assert len(db.execute(select(Case)).all()) == 1
    confirmed = client.post(f"/fill/{intake_id}/submit", data={**fields, "_confirm_new": "yes"})
    assert confirmed.status_code == 303
    second = _case_of(db, colleague)

    _switch(client, supervisor)
    page = soup(client.get(f"/cases/{second.id}").text)
    link = page.select_one("#overlaps a.reference")
    assert (link.get_text(), link["href"]) == (first.reference, f"/cases/{first.id}")


def test_the_worker_who_may_open_the_matching_case_gets_a_link(
    db: Session, client: TestClient, worker: User
) -> None:
    woman = {"given_name": "Ona", "family_name": "Petraitė", "age": "30", "gender": "female"}
    login(client, worker.username)
    record_person(client, woman)
    first = _case_of(db, worker)
    intake_id = give_consent(client).removeprefix("/fill/")
    fill_pages(client, intake_id, [MEETING, woman, SITUATION])
    html, _fields = review(client, intake_id)
    link = html.select_one("#overlap-warning li.same-organisation a")
    assert link["href"] == f"/cases/{first.id}"
