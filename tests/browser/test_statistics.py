"""The coordinator's statistics page in a real Chromium, on a phone (360 x 740) and at
desktop width, with and without JavaScript: a suppressed cell reads "< 11" in the table,
its bar is drawn as hidden in the chart, and nothing spills sideways."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.db import make_engine, make_session_factory
from intake.statistics.models import ReportingAgreement
from tests.browser.conftest import PASSWORD, PHONE, sign_in
from tests.statistics.helpers import bulk_cases, person

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def server_db(server) -> Iterator[Session]:
    engine = make_engine(server["database_url"])
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def coordinator(server, server_db: Session) -> str:
    """A coordinator of a body that the browser NGO reports to, with 14 women and 3 men."""
    name = "b.coordinator"
    if server_db.execute(select(User).where(User.username == name)).first() is None:
        server["cli"](
            "users", "create", name, "--role", "coordinator", "--org", "Browser Ministry",
            "--org-kind", "coordination", "--password-stdin", stdin=PASSWORD + "\n",
        )  # fmt: skip
        server_db.rollback()
        body = server_db.execute(
            select(Organisation).where(Organisation.name == "Browser Ministry")
        ).scalar_one()
        worker = server_db.execute(select(User).where(User.username == "b.worker")).scalar_one()
        server_db.add(
            ReportingAgreement(coordinator_id=body.id, reporting_id=worker.organisation_id)
        )
        server_db.commit()
        at = dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
        rows = [(at, person("female"))] * 14 + [(at, person("male", 40))] * 3
        bulk_cases(server_db, worker, rows)
    return name


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_statistics_page_shows_a_suppressed_cell(
    browser, server, coordinator: str, viewport: dict[str, int], javascript: bool
) -> None:
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    page: Page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, server, coordinator)
        page.goto(f"{server['url']}/statistics?year=2025")
        expect(page.locator("h1")).to_have_text("Statistics")
        men = page.locator("#stat-gender tr[data-code='male'] td")
        expect(men).to_have_text("< 11")
        expect(men).to_be_visible()
        chart = page.locator("[data-chart='stat-gender'] svg").first
        expect(chart).to_be_visible()
        assert chart.bounding_box()["width"] > 50
        hidden = page.locator("[data-chart='stat-gender'] rect[data-value='hidden']")
        assert hidden.count() == 2  # the three men, and the women who would give them away
        expect(page.locator("#cases-total")).to_have_text("17")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        page.select_option("#stat-year", "")
        page.click(".stat-filters button[type=submit]")
        expect(page).to_have_url(f"{server['url']}/statistics?year=")
        expect(men).to_have_text("< 11")
    finally:
        context.close()
