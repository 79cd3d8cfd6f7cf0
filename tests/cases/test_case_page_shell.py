"""The page around a case: one row of navigation with a menu for the rest (the account
and the interface language in it), and recorded answers grouped with their question."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake.accounts.models import User
from tests.conftest import login
from tests.forms.test_views import fill_to_review, start

from .helpers import GIRL_16, open_case, submit


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def test_the_bar_holds_two_places_and_a_menu_with_the_rest(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    login(client, supervisor.username)
    soup = _soup(client.get(f"/cases/{case.id}").text)
    bar = soup.select_one("header.bar")
    assert bar is not None
    row = [a["href"] for a in bar.select("nav.nav-main a")]
    assert row == ["/cases", "/referrals/incoming"]
    menu = bar.select_one("details.menu")
    assert menu is not None and not menu.has_attr("open")
    in_menu = [a["href"] for a in menu.select("a")]
    assert "/dashboard" in in_menu and "/account/password" in in_menu
    # Each place once: what the row shows is not repeated in the menu.
    assert not set(row) & set(in_menu)
    # The account menu holds the interface language and signing out; no footer repeats it.
    account = menu.select_one(".account-menu")
    assert account is not None
    assert account.select_one("form[action='/language'] button[value=lt]") is not None
    assert account.select_one("form[action='/logout'] button") is not None
    assert len(soup.select("form[action='/language']")) == 1
    assert soup.select("script:not([src])") == []  # CSP: no inline script


def test_a_signed_out_page_keeps_the_language_switch(client: TestClient) -> None:
    soup = _soup(client.get("/login").text)
    assert soup.select_one("footer form[action='/language']") is not None
    assert soup.select_one("details.menu") is None


def test_a_worker_sees_cases_and_the_menu(db: Session, client: TestClient, worker: User) -> None:
    login(client, worker.username)
    soup = _soup(client.get("/cases").text)
    assert [a["href"] for a in soup.select("nav.nav-main a")] == ["/cases"]
    assert "/dashboard" not in [a["href"] for a in soup.select("details.menu a")]


def test_recorded_answers_sit_with_their_question(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    submit(db, case, "urgent_needs", worker, {"provided": ["food"], "medical_needed": False})
    login(client, supervisor.username)
    soup = _soup(client.get(f"/cases/{case.id}").text)
    filled = soup.select_one(".filled[data-form=urgent_needs]")
    assert filled is not None
    summary = filled.select_one("summary")
    # The title and the date are separate pieces, not run together.
    assert summary.select_one(".form-title").get_text(strip=True)
    assert summary.select_one("time") is not None
    pairs = filled.select(".answer")
    assert pairs, filled
    for pair in pairs:
        # Each answer is one group: its question (dt) and its value (dd) inside it.
        assert len(pair.select("dt")) == 1 and len(pair.select("dd")) == 1


def test_the_dashboard_hides_rows_of_zeros_until_asked(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    open_case(db, worker)
    login(client, supervisor.username)
    soup = _soup(client.get("/dashboard").text)
    control = soup.select_one("#zero-rows")
    assert control is not None and control["href"] == "/dashboard?zeros=1"
    rows = soup.select("#stages tbody tr")
    assert [" ".join(r.get_text(" ").split()) for r in rows] == ["Urgent assistance 1 0"]
    every = _soup(client.get(control["href"]).text)
    assert every.select_one("#zero-rows")["href"] == "/dashboard"
    assert len(every.select("#stages tbody tr")) > len(rows)
    assert {r.select("td")[0].get_text() for r in every.select("#stages tbody tr")} >= {"0", "1"}
    for odd in ("yes", "\u0000", "1" * 9):
        assert client.get("/dashboard", params={"zeros": odd}).status_code in (200, 422)


def test_the_review_page_groups_each_answer_with_its_question(
    client: TestClient, worker: User
) -> None:
    login(client, worker.username)
    client_id = start(client)
    fill_to_review(client, client_id)
    review = _soup(client.get(f"/fill/{client_id}").text)
    items = review.select(".review-section .review-item")
    assert items
    for item in items:
        assert len(item.select("dt")) == 1 and len(item.select("dd")) == 1
    answers = {item.dt.get_text(strip=True): item.dd.get_text(strip=True) for item in items}
    assert answers["Given name"] == "Ona"


def test_the_housing_form_is_not_called_temporary_at_the_specialised_housing_stage(
    db: Session, client: TestClient, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker, GIRL_16)
    case.state = "specialised_housing"
    db.commit()
    login(client, supervisor.username)
    soup = _soup(client.get(f"/cases/{case.id}").text)
    [row] = soup.select(".stage-forms li[data-form=housing_placement]")
    assert row.get_text(" ", strip=True).startswith("Housing placement")
    step = soup.select_one("form.next-step")
    assert step is not None and "Needs: Housing placement form" in step.get_text(" ")
