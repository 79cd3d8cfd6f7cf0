"""Filling the first-contact form in a real Chromium at 360 x 740, as a worker's phone does."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def _database(server) -> str:
    return str(server["database_url"]).removeprefix("sqlite:///")


def _submissions(database: str, client_id: str) -> int:
    with sqlite3.connect(database) as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM submissions WHERE client_id = ?", (client_id,)
            ).fetchone()[0]
        )


def test_fill_the_intake_form_on_a_phone(phone, server) -> None:
    errors: list[str] = []
    phone.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(phone, server, "b.worker")
    phone.goto(f"{server['url']}/forms/first_contact/new")
    phone.click("button.primary")
    phone.wait_for_url(f"{server['url']}/fill/*")
    client_id = phone.url.rsplit("/", 1)[1]

    # Page 1: the meeting.
    assert phone.locator(".progress").inner_text() == "Page 1 of 4"
    phone.fill("#f-contact_date", "2024-03-01")
    phone.select_option("#f-where_met", "outreach")
    phone.click("button.primary")
    phone.wait_for_selector("text=Page 2 of 4")

    # Page 2: the age is asked only while the birth date is unknown.
    age = phone.locator("[data-key=age]")
    assert age.is_visible()
    phone.fill("#f-birth_date", "1990-05-04")
    age.wait_for(state="hidden")
    phone.fill("#f-birth_date", "")
    age.wait_for(state="visible")
    safe_to_call = phone.locator("[data-key=safe_to_call]")
    assert safe_to_call.is_hidden()
    phone.fill("#f-contact_phone", "+370 600 00000")
    safe_to_call.wait_for(state="visible")
    phone.fill("#f-contact_phone", "")
    safe_to_call.wait_for(state="hidden")

    # A wrong value is refused with the form's own message, and what was typed stays.
    phone.fill("#f-given_name", "Ona")
    phone.fill("#f-age", "150")
    phone.check("#f-gender-0")
    phone.click("button.primary")
    message = phone.locator("#f-age-error")
    message.wait_for()
    assert message.inner_text() == "Enter an age between 0 and 120."
    assert phone.locator("[role=alert]").is_visible()
    assert phone.locator(".progress").inner_text() == "Page 2 of 4"
    assert phone.input_value("#f-given_name") == "Ona"
    phone.fill("#f-age", "30")
    phone.click("button.primary")
    phone.wait_for_selector("text=Page 3 of 4")

    # Page 3 and 4, then the review.
    phone.check("[name=immediate_needs][value=food]")
    phone.check("[name=safety_risk][value=low]")
    phone.click("button.primary")
    phone.wait_for_selector("text=Page 4 of 4")
    phone.click("button.primary")
    submit = phone.locator("#submit-filling")
    submit.wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    # Two taps on Submit while the first answer is still on its way (held here, as on a
    # slow connection): the button is disabled, one request leaves, one row is stored.
    sent: list[str] = []
    held: list = []
    phone.on(
        "request",
        lambda request: sent.append(request.url) if request.url.endswith("/submit") else None,
    )
    phone.route("**/submit", lambda route: held.append(route))
    submit.tap()
    expect(submit).to_be_disabled()
    submit.tap(force=True)
    assert len(held) == 1
    held[0].continue_()
    phone.wait_for_selector("text=Form submitted")
    assert len(sent) == 1, sent
    assert _submissions(_database(server), client_id) == 1
    # The wrong age is answered 422 (one htmx error convention: 409 and 422 are swapped
    # in place); the browser reports that status, and nothing else may appear (CSP).
    refused = ("status of 422", "Error Code 422")
    assert [e for e in errors if not any(r in e for r in refused)] == [], errors
