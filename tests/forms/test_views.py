"""Filling a form as a phone does it without JavaScript: the HTML a worker sees at each step."""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake import i18n
from intake.accounts.models import User
from intake.definitions import service as definitions
from intake.filling.models import FormDraft, Submission
from tests.conftest import csrf_from, login, make_user

MEETING = {"contact_date": "2024-03-01", "where_met": "outreach"}
PERSON = {"given_name": "Ona", "birth_date": "1990-05-04", "gender": "female"}
SITUATION = {"immediate_needs": ["food"], "safety_risk": "low"}


@pytest.fixture(autouse=True)
def published(db: Session) -> None:
    definitions.sync_files(db=db)


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def start(client: TestClient, form_key: str = "first_contact", language: str = "en") -> str:
    page = client.get(f"/forms/{form_key}/new")
    assert page.status_code == 200
    client_id = soup(page.text).find("input", {"name": "client_id"})["value"]
    response = client.post(
        f"/forms/{form_key}/new",
        data={"csrf_token": csrf_from(page.text), "client_id": client_id, "language": language},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/fill/{client_id}"
    return str(client_id)


def post_page(client: TestClient, client_id: str, answers: dict, action: str = "next", **kw):
    token = csrf_from(client.get(f"/fill/{client_id}").text)
    return client.post(
        f"/fill/{client_id}", data={"csrf_token": token, "_action": action, **answers}, **kw
    )


def fill_to_review(client: TestClient, client_id: str) -> None:
    for answers in (MEETING, PERSON, SITUATION, {}):
        assert post_page(client, client_id, answers).status_code == 303


def submit(client: TestClient, client_id: str, digest: str | None = None):
    page = client.get(f"/fill/{client_id}")
    html = soup(page.text)
    reviewed = html.find("input", {"name": "_reviewed"})
    return client.post(
        f"/fill/{client_id}/submit",
        data={"csrf_token": csrf_from(page.text), "_reviewed": digest or reviewed["value"]},
    )


def submissions(db: Session) -> int:
    db.expire_all()
    return db.execute(select(func.count()).select_from(Submission)).scalar_one()


def field(page: BeautifulSoup, name: str):
    return page.find(attrs={"data-key": name})


def test_a_page_shows_progress_labels_and_the_right_keyboards(client, worker: User) -> None:
    login(client, worker.username)
    client_id = start(client)
    post_page(client, client_id, MEETING)
    page = soup(client.get(f"/fill/{client_id}").text)
    assert page.find(class_="progress").get_text(strip=True) == "Page 2 of 4"
    assert page.select_one("#filling h2").get_text(strip=True) == "About the person"
    given = page.find("input", {"name": "given_name"})
    assert page.find("label", {"for": given["id"]}).get_text(strip=True).startswith("Given name")
    hint = page.find(id=given["aria-describedby"])
    assert "need not match any document" in hint.get_text()
    assert page.find("input", {"name": "birth_date"})["type"] == "date"
    assert page.find("input", {"name": "age"})["inputmode"] == "numeric"
    assert page.find("input", {"name": "contact_phone"})["type"] == "tel"
    assert len(page.find_all("input", {"name": "gender", "type": "radio"})) == 4
    assert page.find("select", {"name": "nationality"}) is not None  # 23 options: a list
    assert len(page.find_all("input", {"name": "languages_spoken", "type": "checkbox"})) == 10
    assert page.find(attrs={"name": "age_years"}) is None  # a calculation is no input
    # The `relevant` rule travels as data, for the browser's evaluator.
    rule = json.loads(field(page, "age")["data-relevant"])
    assert rule["kind"] == "binary"
    assert field(page, "safe_to_call").has_attr("hidden")  # no phone number yet
    assert page.find("form", id="fill-form")["autocomplete"] == "off"


def test_yes_no_is_two_radios_and_acknowledge_a_statement_to_tick(client, worker) -> None:
    login(client, worker.username)
    client_id = start(client, "consent")
    first = soup(client.get(f"/fill/{client_id}").text)
    assert "note" in field(first, "intro")["class"]  # a note is text, not an input
    assert first.find(attrs={"name": "intro"}) is None
    post_page(client, client_id, {"consent_date": "2024-03-01", "explained_in": "russian"})
    page = soup(client.get(f"/fill/{client_id}").text)
    radios = page.find_all("input", {"name": "consent_services"})
    assert [(r["type"], r["value"]) for r in radios] == [("radio", "yes"), ("radio", "no")]
    assert [page.find("label", {"for": r["id"]}).text for r in radios] == ["Yes", "No"]
    ack = page.find("input", {"name": "worker_confirms"})
    assert ack["type"] == "checkbox"
    statement = page.find("label", {"for": ack["id"]}).get_text()
    assert statement.startswith("I explained each statement")
    refused = soup(post_page(client, client_id, {"consent_services": "yes"}).text)
    assert (
        "Please confirm this statement to continue"
        in refused.find(id=ack["id"].removesuffix("-yes") + "-error").text
    )


def test_errors_are_shown_next_to_the_field_and_typed_values_kept(client, worker) -> None:
    login(client, worker.username)
    client_id = start(client)
    post_page(client, client_id, MEETING)
    response = post_page(
        client,
        client_id,
        {"given_name": "Ona", "family_name": "Žemaitė", "age": "abc", "gender": "female"},
    )
    assert response.status_code == 422
    page = soup(response.text)
    summary = page.find(attrs={"role": "alert"})
    assert "Enter a whole number" in summary.get_text()
    assert summary.find("a")["href"] == "#f-age"
    age = page.find("input", {"name": "age"})
    assert age["value"] == "abc"
    assert age["aria-invalid"] == "true"
    assert page.find(id="f-age-error").get_text(strip=True) == "Enter a whole number"
    assert "f-age-error" in age["aria-describedby"].split()
    assert page.find("input", {"name": "given_name"})["value"] == "Ona"
    assert page.find("input", {"name": "family_name"})["value"] == "Žemaitė"
    assert page.find("input", {"name": "gender", "value": "female"}).has_attr("checked")


def test_a_wrong_value_gets_the_forms_own_message(client, worker) -> None:
    login(client, worker.username)
    client_id = start(client)
    post_page(client, client_id, MEETING)
    response = post_page(client, client_id, {"given_name": "Ona", "age": "150", "gender": "male"})
    assert "Enter an age between 0 and 120." in soup(response.text).find(id="f-age-error").text


def test_bad_input_gets_a_message_never_a_500(client, worker, db) -> None:
    login(client, worker.username)
    client_id = start(client)
    post_page(client, client_id, MEETING)
    response = post_page(
        client,
        client_id,
        {
            "given_name": "x" * 5000,
            "gender": "robot",
            "is_admin": "yes",
            "age": "1" * 40,
        },
    )
    assert response.status_code == 422
    text = soup(response.text).find(attrs={"role": "alert"}).get_text()
    assert "too long" in text
    assert "Choose one of the options offered" in text
    assert "not part of this page" in text
    # What was accepted before is still there.
    assert (
        soup(client.get(f"/fill/{client_id}").text)
        .find(class_="progress")
        .text.startswith("Page 2")
    )
    back = post_page(client, client_id, {}, action="back")
    assert back.status_code == 303
    meeting = soup(client.get(f"/fill/{client_id}").text)
    assert meeting.find("input", {"name": "contact_date"})["value"] == "2024-03-01"


def test_a_missing_or_wrong_csrf_token_is_refused_and_nothing_changes(client, worker, db) -> None:
    login(client, worker.username)
    client_id = start(client)
    for data in ({"_action": "next", **MEETING}, {"csrf_token": "x" * 64, **MEETING}):
        response = client.post(f"/fill/{client_id}", data=data)
        assert response.status_code == 403
        assert "expired" in response.text
    db.expire_all()
    draft = db.execute(select(FormDraft)).scalar_one()
    assert draft.page_index == 0 and draft.answers == {}


def test_another_users_filling_is_not_found(client, worker, org, db) -> None:
    login(client, worker.username)
    client_id = start(client)
    make_user(db, org, "outreach_worker", "colleague")
    client.cookies.clear()
    login(client, "colleague")
    assert client.get(f"/fill/{client_id}").status_code == 404
    token = csrf_from(client.get("/drafts").text)
    response = client.post(
        f"/fill/{client_id}", data={"csrf_token": token, "_action": "next", **MEETING}
    )
    assert response.status_code == 404
    assert "does not exist" in response.text
    assert client_id not in client.get("/drafts").text


def test_only_form_fillers_may_open_forms(client, admin, worker) -> None:
    login(client, admin.username)
    assert client.get("/forms/first_contact/new").status_code == 403
    assert client.get("/drafts").status_code == 403
    client.cookies.clear()
    login(client, worker.username)
    assert client.get("/forms/no_such_form/new").status_code == 404


def test_a_draft_survives_a_dead_phone(app, client, worker) -> None:
    login(client, worker.username)
    client_id = start(client)
    post_page(client, client_id, MEETING)
    post_page(client, client_id, PERSON)
    # The phone dies: a new browser session signs in again and resumes.
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as phone:
        login(phone, worker.username)
        drafts = soup(phone.get("/drafts").text)
        resume = drafts.find("a", href=f"/fill/{client_id}")
        assert resume is not None and resume.get_text(strip=True) == "Resume"
        page = soup(phone.get(f"/fill/{client_id}").text)
        assert page.find(class_="progress").get_text(strip=True) == "Page 3 of 4"
        back = post_page(phone, client_id, {}, action="back")
        assert back.status_code == 303
        person = soup(phone.get(f"/fill/{client_id}").text)
        assert person.find("input", {"name": "given_name"})["value"] == "Ona"
        assert person.find("input", {"name": "birth_date"})["value"] == "1990-05-04"


def test_review_lists_the_answers_and_submit_stores_one_submission(client, worker, db) -> None:
    login(client, worker.username)
    client_id = start(client)
    fill_to_review(client, client_id)
    review = soup(client.get(f"/fill/{client_id}").text)
    answers = {
        dt.get_text(strip=True): dt.find_next_sibling("dd").get_text(strip=True)
        for dt in review.find_all("dt")
    }
    assert answers["Given name"] == "Ona"
    assert answers["Gender"] == "Female"
    assert answers["Immediate needs"] == "Food"
    assert "Age in years (known or estimated)" not in answers  # not asked: birth date known
    response = submit(client, client_id)
    assert response.status_code == 303
    done = soup(client.get(response.headers["location"]).text)
    assert done.find("h1").get_text(strip=True) == "Form submitted"
    assert "Ona" not in done.get_text()  # the done page names no one
    assert submissions(db) == 1


def test_a_double_submit_is_one_submission_and_other_answers_a_409(client, worker, db) -> None:
    login(client, worker.username)
    client_id = start(client)
    fill_to_review(client, client_id)
    page = client.get(f"/fill/{client_id}")
    digest = soup(page.text).find("input", {"name": "_reviewed"})["value"]
    token = csrf_from(page.text)
    first = client.post(
        f"/fill/{client_id}/submit", data={"csrf_token": token, "_reviewed": digest}
    )
    again = client.post(
        f"/fill/{client_id}/submit", data={"csrf_token": token, "_reviewed": digest}
    )
    assert first.status_code == again.status_code == 303
    assert submissions(db) == 1
    other = client.post(
        f"/fill/{client_id}/submit", data={"csrf_token": token, "_reviewed": "f" * 64}
    )
    assert other.status_code == 409
    assert "already submitted with different answers" in other.text
    assert submissions(db) == 1


def test_the_question_language_changes_while_the_interface_stays(client, worker, db) -> None:
    worker.locale = "lt"
    db.commit()
    login(client, worker.username)
    client_id = start(client, language="en")
    token = csrf_from(client.get(f"/fill/{client_id}").text)
    switched = client.post(
        f"/fill/{client_id}/language",
        data={"csrf_token": token, "_language": "ru", "contact_date": "2024-03-01"},
    )
    assert switched.status_code == 200
    page = soup(switched.text)
    assert page.find("html")["lang"] == "lt"  # the worker's interface
    assert page.find("h1").get_text(strip=True) == "Первый контакт"
    assert page.find("label", {"for": "f-contact_date"}).get_text().startswith("Дата")
    assert page.find("input", {"name": "contact_date"})["value"] == "2024-03-01"  # kept
    # Buttons speak the interface's language (whatever its catalog says), not Russian.
    next_button = page.find("button", class_="primary").get_text(strip=True)
    assert next_button == i18n.translations_for("lt").ugettext("Next")
    assert page.find("html")["lang"] != page.find("h1")["lang"]
    later = soup(client.get(f"/fill/{client_id}").text)
    assert later.select_one("#filling h2").get_text(strip=True) == "Встреча"
    lithuanian = client.post(
        f"/fill/{client_id}/language", data={"csrf_token": token, "_language": "lt"}
    )
    assert soup(lithuanian.text).select_one("#filling h2").get_text(strip=True) == "Susitikimas"
    refused = client.post(
        f"/fill/{client_id}/language", data={"csrf_token": token, "_language": "xx"}
    )
    assert refused.status_code == 422


def test_htmx_gets_only_the_form_block(client, worker) -> None:
    login(client, worker.username)
    client_id = start(client)
    headers = {"HX-Request": "true"}
    response = post_page(client, client_id, {"contact_date": "soon"}, headers=headers)
    assert response.status_code == 422  # swapped all the same (base.html's htmx-config)
    assert "<html" not in response.text
    page = soup(response.text)
    assert page.find(id="filling") is not None
    assert page.find(attrs={"role": "alert"}) is not None
    # One round trip per Next: the next page comes in the answer, its address in HX-Push-Url.
    moved = post_page(client, client_id, MEETING, headers=headers)
    assert moved.status_code == 200
    assert moved.headers["HX-Push-Url"] == f"/fill/{client_id}"
    assert "<html" not in moved.text and "Page 2 of 4" in moved.text


def test_repeat_rows_are_added_and_removed_without_javascript(client, worker) -> None:
    login(client, worker.username)
    client_id = start(client)
    post_page(client, client_id, MEETING)
    post_page(client, client_id, PERSON)
    answers = {**SITUATION, "has_children_with": "yes", "accompanying_children.0.child_age": "4"}
    added = soup(post_page(client, client_id, answers, action="add:accompanying_children").text)
    rows = added.find_all(attrs={"data-group": "accompanying_children"})
    assert len(rows) == 2
    assert added.find("input", {"name": "accompanying_children.0.child_age"})["value"] == "4"
    removed = post_page(
        client,
        client_id,
        {**answers, "accompanying_children.1.child_age": "7"},
        action="remove:accompanying_children:0",
    )
    left = soup(removed.text).find_all("input", attrs={"name": re.compile(r"child_age$")})
    assert [i["value"] for i in left] == ["7"]
    wrong = post_page(
        client,
        client_id,
        {**SITUATION, "has_children_with": "yes", "accompanying_children.0.child_age": "30"},
    )
    assert wrong.status_code == 422
    error = soup(wrong.text).find(id="f-accompanying_children-0-child_age-error")
    assert error.get_text(strip=True) == "A child's age is between 0 and 17."
