"""axe-core in a real Chromium at 360 x 740: no serious or critical violation on the case
page (its folded sections opened), the team form and the dashboard.

axe-core comes pinned inside the axe-playwright-python test dependency (MPL-2.0; see
intake/static/vendor/README.md). It is injected through the browser's debugging
protocol, so the page's strict CSP stays as it is served.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import service as cases
from intake.db import make_engine, make_session_factory
from tests.browser.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.browser

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

GIRL_16 = {"first_contact.gender": "female", "first_contact.age_years": 16}
BLOCKING = {"serious", "critical"}


@pytest.fixture
def server_db(server) -> Iterator[Session]:
    engine = make_engine(server["database_url"])
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def _user(server, db: Session, name: str, role: str) -> User:
    found = db.execute(select(User).where(User.username == name)).scalar_one_or_none()
    if found is None:
        server["cli"](
            "users", "create", name, "--role", role, "--org", "Axe Shelter", "--password-stdin",
            stdin=PASSWORD + "\n",
        )  # fmt: skip
        db.rollback()
        found = db.execute(select(User).where(User.username == name)).scalar_one()
    return found


@pytest.fixture
def case_id(server, server_db: Session) -> str:
    worker = _user(server, server_db, "a.worker", "outreach_worker")
    _user(server, server_db, "a.supervisor", "supervisor")
    case = cases.open_case(
        db=server_db,
        actor=worker,
        intake_answers=GIRL_16,
        submission_ids=[],
        today=dt.date.today(),
    )
    return case.id


def test_the_pinned_axe_core_is_the_one_documented() -> None:
    bundled = axe_playwright.Axe().axe_script[:200]
    assert "axe v4.12.1" in bundled and "Mozilla Public" in bundled


def _serious(page: Page, context: Any = None) -> list[str]:
    """Each serious or critical violation: its rule, impact and the first elements hit."""
    results = axe_playwright.Axe().run(page, context=context)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in BLOCKING:
            targets = [str(node.get("target")) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found


def test_the_check_finds_what_it_should(phone: Page) -> None:
    # A picture without words and an unnamed field: axe must say so, or it checks nothing.
    phone.set_content(
        '<html lang="en"><title>t</title><main><img src="data:,">'
        "<select><option>a</option></select></main></html>"
    )
    found = " ".join(_serious(phone))
    assert "image-alt" in found and "select-name" in found


def _open_every_details(page: Page) -> None:
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


def test_the_case_page_and_its_team_form(phone: Page, server, case_id: str) -> None:
    sign_in(phone, server, "a.supervisor")
    phone.goto(f"{server['url']}/cases/{case_id}")
    assert _serious(phone) == []
    # Folded parts too: other actions with their reasons, the team form, the menu.
    _open_every_details(phone)
    assert _serious(phone) == []
    assert phone.locator("details.team-form select").count() >= 5
    assert _serious(phone, context="#team") == []


def test_the_case_lists(phone: Page, server, case_id: str) -> None:
    sign_in(phone, server, "a.supervisor")
    for tab in ("organisation", "attention"):
        phone.goto(f"{server['url']}/cases?tab={tab}")
        _open_every_details(phone)
        assert _serious(phone) == [], tab


def test_the_dashboard(phone: Page, server, case_id: str) -> None:
    sign_in(phone, server, "a.supervisor")
    for path in ("/dashboard", "/dashboard?zeros=1"):
        phone.goto(f"{server['url']}{path}")
        assert _serious(phone) == [], path
