"""On a phone (360 x 740): a team worker records three meals and a hygiene kit from the
case page in under ten taps, with JavaScript and without it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import service as cases
from intake.cases import team
from intake.cases.service_records import ServiceRecord
from intake.db import make_engine, make_session_factory
from tests.browser.conftest import PASSWORD, PHONE, sign_in

pytestmark = pytest.mark.browser

WOMAN_30 = {"first_contact.gender": "female", "first_contact.age_years": 30}


@pytest.fixture
def server_db(server) -> Iterator[Session]:
    """The running server's own database, to open a case and set its team."""
    engine = make_engine(server["database_url"])
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def _user(server, db: Session, name: str, role: str) -> User:
    found = db.execute(select(User).where(User.username == name)).scalar_one_or_none()
    if found is None:
        server["cli"](
            "users", "create", name, "--role", role, "--org", "Services Shelter",
            "--password-stdin", stdin=PASSWORD + "\n",
        )  # fmt: skip
        db.rollback()  # end the read that began before the command wrote the user
        found = db.execute(select(User).where(User.username == name)).scalar_one()
    return found


@pytest.fixture
def case_id(server, server_db: Session) -> str:
    """A case opened by a worker who is on its team (a supervisor put her there)."""
    worker = _user(server, server_db, "s.worker", "outreach_worker")
    supervisor = _user(server, server_db, "s.supervisor", "supervisor")
    case = cases.open_case(
        db=server_db,
        actor=worker,
        intake_answers=WOMAN_30,
        submission_ids=[],
        today=dt.date.today(),
    )
    team.assign_team_member(
        db=server_db, actor=supervisor, case=case, user_id=worker.id, function="social_worker"
    )
    return case.id


class Taps:
    """Counts what a person does with a finger: each tap and each box typed into."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0

    def tap(self, selector: str) -> None:
        self.count += 1
        self.page.locator(selector).tap()

    def fill(self, selector: str, value: str) -> None:
        self.count += 1
        self.page.locator(selector).tap()
        self.page.fill(selector, value)


def _saved(server_db: Session, case_id: str) -> list[tuple[str, int]]:
    server_db.rollback()
    return [
        (row.service_type, row.quantity)
        for row in server_db.execute(
            select(ServiceRecord)
            .where(ServiceRecord.case_id == case_id)
            .order_by(ServiceRecord.service_type)
        ).scalars()
    ]


def test_a_worker_records_three_meals_and_a_hygiene_kit_in_under_ten_taps(
    phone: Page, server, server_db: Session, case_id: str
) -> None:
    errors: list[str] = []
    phone.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(phone, server, "s.worker")
    phone.goto(f"{server['url']}/cases/{case_id}")
    taps = Taps(phone)
    form = phone.locator("#services details.record-services")
    if form.get_attribute("open") is None:
        taps.tap("#services details.record-services > summary")
    taps.fill("#qty-meal", "3")
    taps.fill("#qty-hygiene_kit", "1")
    taps.tap("#services button[type=submit]")
    expect(phone.locator("#services .service-totals")).to_contain_text("3 meals")
    expect(phone.locator("#services .service-totals")).to_contain_text("1 package")
    assert taps.count < 10, taps.count
    assert _saved(server_db, case_id) == [("hygiene_kit", 1), ("meal", 3)]
    # Nothing sticks out sideways on a 360px screen.
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    assert errors == []


def test_recording_works_without_javascript(
    browser, server, server_db: Session, case_id: str
) -> None:
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB", java_script_enabled=False
    )
    page = context.new_page()
    try:
        sign_in(page, server, "s.worker")
        page.goto(f"{server['url']}/cases/{case_id}")
        if page.locator("#services details.record-services").get_attribute("open") is None:
            page.click("#services details.record-services > summary")
        page.fill("#qty-meal", "2")
        page.click("#services button[type=submit]")
        page.wait_for_url(f"{server['url']}/cases/{case_id}#services")
        expect(page.locator("#services .service-totals")).to_contain_text("2 meals")
        assert _saved(server_db, case_id) == [("meal", 2)]
    finally:
        context.close()
