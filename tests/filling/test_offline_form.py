"""A calmer form on a bad connection: one round trip per Next, messages for the worker in
the worker's language, one "Questions in" control, and a place to say "not saved"."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from sqlalchemy.orm import Session

from intake import i18n
from intake.accounts.models import User
from intake.definitions import service as definitions
from tests.conftest import login
from tests.forms.test_views import MEETING, post_page, start

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def published(db: Session) -> None:
    definitions.sync_files(db=db)


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def lt(message: str) -> str:
    return i18n.translations_for("lt").ugettext(message)


def test_next_with_htmx_answers_with_the_next_page_in_one_round_trip(client, worker) -> None:
    login(client, worker.username)
    client_id = start(client)
    moved = post_page(client, client_id, MEETING, headers=HTMX)
    assert moved.status_code == 200
    assert moved.headers["HX-Push-Url"] == f"/fill/{client_id}"
    page = soup(moved.text)
    assert page.find("html") is None  # the block only
    assert page.find(class_="progress").get_text(strip=True) == "Page 2 of 4"
    back = post_page(client, client_id, {}, action="back", headers=HTMX)
    assert back.status_code == 200
    assert soup(back.text).find(class_="progress").get_text(strip=True) == "Page 1 of 4"
    # Without JavaScript the browser follows a redirect, as before.
    plain = post_page(client, client_id, MEETING)
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/fill/{client_id}"


def test_the_review_edit_link_also_answers_in_one_round_trip(client, worker) -> None:
    login(client, worker.username)
    client_id = start(client)
    post_page(client, client_id, MEETING)
    post_page(client, client_id, {"given_name": "Ona", "age": "30", "gender": "female"})
    post_page(client, client_id, {"immediate_needs": ["food"], "safety_risk": "low"})
    review = post_page(client, client_id, {}, headers=HTMX)
    assert "Check the answers" in review.text
    edited = post_page(client, client_id, {}, action="edit:0", headers=HTMX)
    assert edited.status_code == 200 and "HX-Push-Url" in edited.headers
    assert soup(edited.text).find(class_="progress").get_text(strip=True) == "Page 1 of 4"


def _worker_in_lithuanian(db: Session, worker: User) -> None:
    worker.locale = "lt"
    db.commit()


def test_the_child_protection_note_is_in_the_workers_language(client, worker, db) -> None:
    _worker_in_lithuanian(db, worker)
    login(client, worker.username)
    client_id = start(client, language="ru")
    post_page(client, client_id, MEETING)
    # Saved by going back, then shown again: the note's rule holds (age 15).
    post_page(client, client_id, {"given_name": "Ольга", "age": "15"}, action="back")
    post_page(client, client_id, MEETING)
    page = soup(client.get(f"/fill/{client_id}").text)
    assert not page.find(attrs={"data-key": "minor_note"}).has_attr("hidden")
    note = page.find(attrs={"data-key": "minor_note"})
    assert note["lang"] == "lt"
    assert note.get_text(strip=True).startswith("Šis asmuo yra vaikas")
    # The questions themselves stay in the person's language.
    assert page.find("div", class_="questions")["lang"] == "ru"
    assert page.find("label", {"for": "f-given_name"}).get_text(strip=True).startswith("Имя")


def test_an_error_line_marks_the_question_language_apart(client, worker, db) -> None:
    _worker_in_lithuanian(db, worker)
    login(client, worker.username)
    client_id = start(client, language="ru")
    post_page(client, client_id, MEETING)
    person = {"given_name": "Ольга", "age": "150", "gender": "female"}
    refused = post_page(client, client_id, person)
    assert refused.status_code == 422
    line = soup(refused.text).find(id="error-summary").find("a", href="#f-age")
    label, message = line.find_all("span")
    assert label["lang"] == "ru" and label.get_text().startswith("Возраст в годах")
    assert message["lang"] == "lt" and message.get_text() == "Įveskite amžių nuo 0 iki 120."


def test_one_questions_in_control_that_keeps_what_was_typed(client, worker) -> None:
    login(client, worker.username)
    client_id = start(client, language="en")
    page = soup(client.get(f"/fill/{client_id}").text)
    controls = page.find_all("fieldset", class_="questions-in")
    assert len(controls) == 1
    control = controls[0]
    legend = control.find("legend")
    assert legend.get_text(" ", strip=True) == "Questions in: English"
    assert legend.find("strong")["lang"] == "en"
    chips = control.find_all("button")
    assert {b["value"] for b in chips} == {"lt", "ru", "uk", "pl", "lv", "ar"}
    for chip in chips:
        assert chip["formaction"] == f"/fill/{client_id}/language"
        assert chip["lang"] == chip["value"]
        assert chip.find_parent("form")["id"] == "fill-form"  # the answers go along
    assert "Language of the questions" not in page.get_text()


def test_questions_in_is_translated_for_the_worker(client, worker, db) -> None:
    _worker_in_lithuanian(db, worker)
    login(client, worker.username)
    client_id = start(client, language="ru")
    legend = soup(client.get(f"/fill/{client_id}").text).find("fieldset", class_="questions-in")
    assert legend.find("legend").get_text(" ", strip=True).startswith(lt("Questions in:"))


def test_a_page_says_where_a_failed_save_will_be_reported(client, worker) -> None:
    login(client, worker.username)
    client_id = start(client)
    page = soup(client.get(f"/fill/{client_id}").text)
    status = page.find(id="connection-status")
    assert status["role"] == "status" and status["aria-live"] == "polite"
    assert status.find_parent("div", id="filling") is not None  # swapped with the page
    assert "no connection" in status["data-offline"]
    assert "busy" in status["data-busy"]
    retry = status.find("button", class_="connection-retry")
    assert retry["type"] == "button" and retry.has_attr("hidden")
    # Every htmx request of the form has a time limit, so a dead connection ends.
    assert '"timeout"' in page.find("form", id="fill-form")["hx-request"]
