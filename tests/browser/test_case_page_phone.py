"""On a phone (360 x 740): the supervisor's first screen lists the case a worker just
opened, the case page's one solid button is the next stage, and the bar is one row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import service as cases
from intake.db import make_engine, make_session_factory
from tests.browser.conftest import PASSWORD, PHONE, sign_in

pytestmark = pytest.mark.browser

GIRL_16 = {"first_contact.gender": "female", "first_contact.age_years": 16}


@pytest.fixture
def server_db(server) -> Iterator[Session]:
    """The running server's own database, to open a case as the intake would."""
    engine = make_engine(server["database_url"])
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def _user(server, db: Session, name: str, role: str, org: str) -> User:
    found = db.execute(select(User).where(User.username == name)).scalar_one_or_none()
    if found is None:
        server["cli"](
            "users", "create", name, "--role", role, "--org", org, "--password-stdin",
            stdin=PASSWORD + "\n",
        )  # fmt: skip
        db.rollback()  # end the read that began before the command wrote the user
        found = db.execute(select(User).where(User.username == name)).scalar_one()
    return found


@pytest.fixture
def new_case(server, server_db: Session) -> str:
    """A girl's case just opened by an outreach worker of an organisation of its own."""
    worker = _user(server, server_db, "p.worker", "outreach_worker", "Phone Shelter")
    _user(server, server_db, "p.supervisor", "supervisor", "Phone Shelter")
    case = cases.open_case(
        db=server_db,
        actor=worker,
        intake_answers=GIRL_16,
        submission_ids=[],
        today=dt.date.today(),
    )
    return case.reference


def _within_first_screen(page: Page, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (selector, box)


def test_the_supervisors_first_screen_lists_the_new_case_and_leads_to_the_next_stage(
    phone: Page, server, new_case: str
) -> None:
    errors: list[str] = []
    phone.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(phone, server, "p.supervisor")
    # The bar is one row: the brand, the first places, and the menu.
    bar = phone.locator("header.bar").bounding_box()
    assert bar is not None and bar["height"] <= 60, bar
    expect(phone.locator("details#menu")).not_to_have_attribute("open", "")

    phone.click("nav.nav-main >> text=Cases")
    phone.wait_for_url(f"{server['url']}/cases")
    expect(phone.locator(".tabs a[aria-current=page]")).to_have_attribute(
        "data-tab", "organisation"
    )
    row = f".case-row a:has-text('{new_case}')"
    _within_first_screen(phone, row)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    phone.click(row)
    phone.wait_for_url(f"{server['url']}/cases/*")
    solid = phone.locator(".case-actions button.primary")
    expect(solid).to_have_count(1)
    expect(solid).to_have_text("Move to specialised housing")
    _within_first_screen(phone, ".case-actions button.primary")
    # Blocked, its reasons right under it; the exceptional actions stay folded.
    expect(phone.locator(".case-actions .next-step .blockers li").first).to_be_visible()
    expect(phone.locator("#other-actions")).not_to_have_attribute("open", "")
    expect(phone.locator("text=Confirm: Record lost contact")).to_be_hidden()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The menu holds the rest, the account and the language; it opens without a script.
    phone.click("details#menu > summary")
    expect(phone.locator("#menu a[href='/dashboard']")).to_be_visible()
    expect(phone.locator("#menu form[action='/language'] button[value=lt]")).to_be_visible()
    assert errors == [], errors  # includes CSP violations


def test_an_exceptional_action_asks_for_a_reason_and_a_confirmation(
    phone: Page, server, new_case: str
) -> None:
    sign_in(phone, server, "p.supervisor")
    phone.goto(f"{server['url']}/cases?q={new_case}")
    phone.click(f".case-row a:has-text('{new_case}')")
    phone.click("#other-actions > summary")
    phone.click("details.exceptional[data-trigger=close] > summary")
    confirm = phone.locator("details.exceptional[data-trigger=close] button[type=submit]")
    expect(confirm).to_have_text("Confirm: Close the case early")
    # An empty reason is not sent: the browser asks for it first.
    confirm.click()
    invalid = phone.locator("#reason-close").evaluate("e => !e.validity.valid")
    assert invalid
    expect(phone.locator("#stage-heading")).to_have_text("Urgent assistance")
