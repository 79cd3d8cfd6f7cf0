"""A new intake started without a connection, in a real Chromium at 360 x 740: signed in
online, the connection goes, "New intake" from the home page opens the blank consent the
phone kept, then the intake form; a reload mid-way keeps the answers; the pair waits in
the outbox and, when the connection returns, opens exactly one case with those answers."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_case_work import CONSENT, _answer
from tests.browser.test_offline import _count, _phone, _raw_profile_contains, _user

pytestmark = pytest.mark.browser

CANARY = "Gintarėlis"
KEPT = ("/offline/intake/consent", "/offline/intake/first_contact", "/outbox")


def _kept_for_offline(page) -> None:
    """The service worker controls the page, and the start pages are in the phone's cache."""
    page.wait_for_function("() => !!navigator.serviceWorker?.controller")
    page.wait_for_function(
        "(urls) => Promise.all(urls.map(u => caches.match(u))).then(hits => hits.every(Boolean))",
        arg=list(KEPT),
    )
    # This user's key for fillings in progress is on the phone (fetched while online).
    ready = "fetch('/offline/intake').then(r => r.json()).then(l => IntakeOffline.ready(l.owner))"
    assert page.evaluate(ready) is True


def _next(page) -> None:
    before = page.locator("#offline-progress").inner_text()
    page.click("[data-offline=next]")
    page.wait_for_function(
        "(old) => document.querySelector('.field-error')"
        " || !document.querySelector('.offline-review').hidden"
        " || document.querySelector('#offline-progress').textContent !== old",
        arg=before,
    )
    assert page.locator(".field-error").count() == 0, page.locator(".field-error").all_inner_texts()


def _ids(page) -> tuple[str, str]:
    consent, _dot, intake = page.evaluate("location.hash.slice(1)").partition(".")
    return consent, intake


def test_a_new_intake_started_offline_opens_exactly_one_case(browser, server, tmp_path) -> None:
    _user(server, "b.starter")
    profile = tmp_path / "profile"
    context, page = _phone(browser, profile)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, server, "b.starter")
    cases = _count(server, "SELECT count(*) FROM cases")  # the server is shared by the tests
    _kept_for_offline(page)
    page.reload()  # a page the worker has open, controlled by the service worker
    _kept_for_offline(page)

    # No connection: "New intake" opens the consent the phone kept, with ids made here.
    context.set_offline(True)
    page.click("#new-intake")
    page.wait_for_function(
        "() => location.pathname === '/offline/intake/consent' && location.hash.length > 30"
    )
    expect(page.locator("#offline-notice")).to_be_visible()
    consent_id, intake_id = _ids(page)
    assert consent_id != intake_id
    for answers in CONSENT:
        for name, value in answers.items():
            _answer(page, name, value)
        _next(page)
    expect(page.locator(".offline-review")).to_be_visible()
    page.click("[data-offline=finish]")  # "Go on": the intake form, from the phone's cache
    page.wait_for_url("**/offline/intake/first_contact#*")
    page.wait_for_selector("[data-offline-form]")
    assert _ids(page) == (consent_id, intake_id)

    _answer(page, "contact_date", "2024-03-01")
    _answer(page, "where_met", "outreach")
    _next(page)
    page.fill("#f-given_name", CANARY)
    page.fill("#f-age", "30")
    page.check("#f-gender-0")
    _next(page)  # to page 3: what is typed is kept on the phone

    # A reload mid-way, still without a connection: the same filling, its answers there.
    page.reload()
    page.wait_for_function("() => document.querySelector('#f-given_name').value !== ''")
    assert page.input_value("#f-given_name") == CANARY
    assert page.input_value("#f-age") == "30"
    assert _ids(page) == (consent_id, intake_id)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.check("[name=immediate_needs][value=food]")
    page.check("[name=safety_risk][value=low]")
    _next(page)
    _next(page)  # the review
    page.click("[data-offline=finish]")
    page.wait_for_url("**/outbox")
    expect(page.locator("#outbox-table tbody tr")).to_have_count(1)
    assert _count(server, "SELECT count(*) FROM cases") == cases
    assert _raw_profile_contains(profile, CANARY) == []  # sealed: no answer in plaintext

    # The connection returns: the `online` event sends it, once.
    context.set_offline(False)
    page.wait_for_function(
        "() => IntakeOffline.outbox().then(r => r.length === 1 && r[0].state === 'sent')"
    )
    page.goto(f"{server['url']}/outbox")
    expect(page.locator("#outbox-status")).to_have_text("Nothing waits to be sent.")
    assert _count(server, "SELECT count(*) FROM cases") == cases + 1
    assert _count(server, "SELECT count(*) FROM intakes WHERE consent_client_id = ?", consent_id)
    database = str(server["database_url"]).removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        case_id = conn.execute(
            "SELECT case_id FROM submissions WHERE client_id = ?", (intake_id,)
        ).fetchone()[0]
    assert case_id
    page.goto(f"{server['url']}/cases/{case_id}")
    expect(page.locator(".filled[data-form=first_contact]")).to_have_count(1)
    assert _count(server, "SELECT count(*) FROM cases") == cases + 1
    assert errors == []
    context.close()
