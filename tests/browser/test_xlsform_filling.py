"""An XLSForm imported in the editor is a form like any other: an administrator uploads and
publishes it, and a worker fills it on a phone (360 x 740) with its rules enforced."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.browser.conftest import sign_in
from tests.forms.xlsform_books import workbook

pytestmark = pytest.mark.browser

VISIT = workbook(
    survey=[
        [
            "type",
            "name",
            "label::English (en)",
            "required",
            "constraint",
            "constraint_message::English (en)",
            "relevant",
        ],
        ["begin_group", "visit", "Visit"],
        ["text", "visitor_name", "Name", "yes"],
        ["integer", "visitor_age", "Age", "yes", ". >= 18 and . <= 120", "Age between 18 and 120"],
        ["select_one yesno", "needs_help", "Needs help?", "yes"],
        ["text", "help_kind", "What help?", None, None, None, "${needs_help} = 'yes'"],
        ["end_group"],
    ],
    choices=[
        ["list_name", "name", "label::English (en)"],
        ["yesno", "yes", "Yes"],
        ["yesno", "no", "No"],
    ],
    settings=[
        ["form_title", "form_id", "version", "default_language"],
        ["Visit check", "visit_check", 1, "en"],
    ],
)


def _stored(server, client_id: str) -> list[dict[str, object]]:
    database = str(server["database_url"]).removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT answers FROM submissions WHERE client_id = ?", (client_id,)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


def test_an_imported_xlsform_renders_and_validates_a_filling(
    browser, phone, server, tmp_path: Path
) -> None:
    book = tmp_path / "visit.xlsx"
    book.write_bytes(VISIT)
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    admin = desk.new_page()
    try:
        sign_in(admin, server, "b.admin")
        admin.goto(f"{server['url']}/admin/definitions")
        admin.set_input_files("#xlsform-file", str(book))
        admin.click("form[action='/admin/definitions/xlsform'] button[type=submit]")
        admin.wait_for_selector("#xlsform-publish")
        assert "visitor_age" in admin.input_value("#definition-text")
        admin.click("#xlsform-publish button[type=submit]")
        admin.wait_for_url("**/admin/definitions/form/visit_check*")
    finally:
        desk.close()

    errors: list[str] = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(phone, server, "b.worker")
    phone.goto(f"{server['url']}/forms/visit_check/new")
    phone.click("button.primary")
    phone.wait_for_url(f"{server['url']}/fill/*")
    client_id = phone.url.rsplit("/", 1)[1]
    assert "Visit check" in phone.title()
    assert "Name" in phone.locator("label[for=f-visitor_name]").inner_text()
    help_kind = phone.locator("[data-key=help_kind]")
    assert help_kind.is_hidden()  # asked only when help is needed
    phone.fill("#f-visitor_name", "Ona")
    phone.fill("#f-visitor_age", "12")
    phone.check("[name=needs_help][value=yes]")
    help_kind.wait_for(state="visible")
    phone.fill("#f-help_kind", "shelter")
    phone.click("button.primary")
    message = phone.locator("#f-visitor_age-error")
    message.wait_for()
    assert message.inner_text() == "Age between 18 and 120"  # the workbook's own message
    assert phone.input_value("#f-visitor_name") == "Ona"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.fill("#f-visitor_age", "30")
    phone.click("button.primary")
    phone.locator("#submit-filling").wait_for()
    phone.locator("#submit-filling").tap()
    phone.wait_for_selector("text=Form submitted")
    [answers] = _stored(server, client_id)
    assert answers["visitor_age"] == 30 and answers["needs_help"] == "yes"
    # Kept because it was asked (free text may be stored sealed: only its presence is checked).
    assert answers["help_kind"] and answers["visitor_name"]
    assert errors == [], errors
