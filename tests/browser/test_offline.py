"""The phone in the field, in a real Chromium at 360 x 740 with its own profile on disk:
the connection goes mid-intake, the page is reloaded, the browser closed and opened
again, and when the connection returns exactly one case is made. What the phone keeps
is read raw from the profile's IndexedDB files: no answer in plaintext."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM_ARGS, PASSWORD, PHONE, _chromium, sign_in
from tests.browser.test_case_work import CONSENT, FIRST_CONTACT, _fill

pytestmark = pytest.mark.browser

CANARY = "Kanarelis"


def _count(server, sql: str, *args: object) -> int:
    database = str(server["database_url"]).removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        return int(conn.execute(sql, args).fetchone()[0])


def _phone(browser, profile: Path):
    context = browser.browser_type.launch_persistent_context(
        str(profile),
        executable_path=_chromium(),
        args=CHROMIUM_ARGS,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
    )
    page = context.pages[0] if context.pages else context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _user(server, name: str) -> None:
    server["cli"](
        "users",
        "create",
        name,
        "--role",
        "outreach_worker",
        "--org",
        "Browser NGO",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )


def _consent_then_intake(page, server) -> str:
    """Start an intake online, give consent, and arrive on the intake form's first page."""
    page.goto(f"{server['url']}/intake/new")
    page.click("#start-intake")
    page.wait_for_url(f"{server['url']}/fill/*")
    _fill(page, CONSENT)
    consent_url = page.url
    page.click("#submit-filling")
    page.wait_for_function("(old) => location.href !== old", arg=consent_url)
    page.wait_for_selector("#fill-form[data-client-id]")
    return str(page.get_attribute("#fill-form", "data-client-id"))


def _sign_out(page) -> None:
    menu = page.locator("details.menu summary")
    if menu.count():
        menu.click()
    page.click("form[action='/logout'] button")


def _ready_offline(page, client_id: str) -> None:
    """The service worker controls the page and the filling's offline page is kept."""
    page.wait_for_function("() => !!navigator.serviceWorker?.controller")
    page.wait_for_function(
        "(id) => caches.open('intake-fillings').then(c => c.match('/fill/' + id + '/offline'))"
        ".then(r => !!r)",
        arg=client_id,
    )


def _raw_profile_contains(profile: Path, text: str) -> list[str]:
    found = []
    needles = [text.encode("utf-8"), text.encode("utf-16-le")]
    for path in profile.rglob("*"):
        if path.is_file() and ("IndexedDB" in path.parts or "CacheStorage" in str(path)):
            data = path.read_bytes()
            if any(n in data for n in needles):
                found.append(str(path.relative_to(profile)))
    return found


def test_offline_mid_intake_survives_reload_and_restart_then_makes_one_case(
    browser, server, tmp_path
) -> None:
    _user(server, "b.field")
    _user(server, "b.second")
    profile = tmp_path / "profile"
    context, page = _phone(browser, profile)
    sign_in(page, server, "b.field")
    client_id = _consent_then_intake(page, server)
    _ready_offline(page, client_id)

    # Page 1 online, one round trip; then the connection goes.
    page.fill("#f-contact_date", "2024-03-01")
    page.select_option("#f-where_met", "outreach")
    page.click("button.primary")
    page.wait_for_selector("text=Page 2 of 4")
    context.set_offline(True)
    page.fill("#f-given_name", CANARY)
    page.fill("#f-age", "30")
    page.check("#f-gender-0")
    page.click("button.primary")
    page.wait_for_url(f"**/fill/{client_id}/offline")
    expect(page.locator("#offline-notice")).to_be_visible()
    page.wait_for_function("() => document.querySelector('#f-given_name').value !== ''")
    assert page.input_value("#f-given_name") == CANARY

    # A reload without a connection: the answers are still there.
    page.reload()
    page.wait_for_function("() => document.querySelector('#f-given_name').value !== ''")
    assert page.input_value("#f-age") == "30"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # The browser is closed and opened again, still without a connection.
    context.close()
    assert _raw_profile_contains(profile, CANARY) == []
    context, page = _phone(browser, profile)
    context.set_offline(True)
    page.goto(f"{server['url']}/fill/{client_id}")
    page.wait_for_function("() => document.querySelector('#f-given_name').value !== ''")
    assert page.input_value("#f-given_name") == CANARY
    page.click("[data-offline=next]")  # to page 3
    page.check("[name=immediate_needs][value=food]")
    page.check("[name=safety_risk][value=low]")
    page.click("[data-offline=next]")  # page 4
    page.click("[data-offline=next]")  # review
    page.click("[data-offline=finish]")
    page.wait_for_url("**/outbox")
    expect(page.locator("#outbox-table tbody tr")).to_have_count(1)
    assert _count(server, "SELECT count(*) FROM cases") == 0
    context.close()

    # (5) Nothing the phone keeps holds the answer in plaintext, sealed or in progress.
    assert _raw_profile_contains(profile, CANARY) == []

    # (3) Another worker on the same phone sees the record counted, cannot send it.
    context, page = _phone(browser, profile)
    sign_in(page, server, "b.second")
    page.goto(f"{server['url']}/outbox")
    expect(page.locator("#outbox-others")).to_contain_text("1 records of another user")
    expect(page.locator("#outbox-table")).to_be_hidden()
    page.click("#outbox-send")
    page.wait_for_timeout(1000)
    assert _count(server, "SELECT count(*) FROM cases") == 0
    _sign_out(page)
    page.wait_for_url("**/login")

    # (4) The owner signs in: the record goes once, even when the first answer is lost.
    dropped: list[str] = []

    def drop_first(route) -> None:
        if dropped:
            route.continue_()
            return
        dropped.append(route.request.url)
        route.fetch()  # the server stores it...
        route.abort()  # ...and the phone never hears back

    context.route("**/offline/records", drop_first)  # the service worker too
    sign_in(page, server, "b.field")
    page.goto(f"{server['url']}/outbox")
    page.wait_for_function("() => !!document.querySelector('#outbox-table tbody tr')")
    page.click("#outbox-send")
    expect(page.locator("#outbox-status")).to_have_text("Nothing waits to be sent.")
    assert dropped
    assert _count(server, "SELECT count(*) FROM submissions WHERE client_id = ?", client_id) == 1
    assert _count(server, "SELECT count(*) FROM cases") == 1
    context.close()


def test_submit_without_a_connection_goes_to_the_outbox_and_once_to_the_case(
    browser, server, tmp_path
) -> None:
    _user(server, "b.review")
    context, page = _phone(browser, tmp_path / "profile")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, server, "b.review")
    client_id = _consent_then_intake(page, server)
    _ready_offline(page, client_id)
    person = {"given_name": "Marija", "age": "41", "gender": "female"}
    _fill(page, [FIRST_CONTACT[0], person, FIRST_CONTACT[2], {}])

    # Submit fails for want of a connection: the button comes back, the filling goes on
    # offline, and is put in the outbox from its review.
    context.set_offline(True)
    page.click("#submit-filling")
    page.wait_for_url(f"**/fill/{client_id}/offline")
    expect(page.locator(".offline-review")).to_be_visible()
    page.click("[data-offline=finish]")
    page.wait_for_url("**/outbox")
    expect(page.locator("#outbox-table tbody tr")).to_have_count(1)
    expect(page.locator("#outbox-table tbody tr td").first).to_have_text("First contact")

    context.set_offline(False)  # the `online` event sends it
    expect(page.locator("#outbox-status")).to_have_text("Nothing waits to be sent.")
    assert _count(server, "SELECT count(*) FROM submissions WHERE client_id = ?", client_id) == 1
    database = str(server["database_url"]).removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        case_id = conn.execute(
            "SELECT case_id FROM submissions WHERE client_id = ?", (client_id,)
        ).fetchone()[0]
    page.goto(f"{server['url']}/cases/{case_id}")
    expect(page.locator(".filled[data-form=first_contact]")).to_have_count(1)
    assert errors == []
    context.close()


def test_sign_out_with_unsent_records_warns_and_deletes_nothing(browser, server, tmp_path) -> None:
    _user(server, "b.leaving")
    context, page = _phone(browser, tmp_path / "profile")
    sign_in(page, server, "b.leaving")
    client_id = _consent_then_intake(page, server)
    _ready_offline(page, client_id)
    person = {"given_name": "Rasa", "age": "35", "gender": "female"}
    _fill(page, [FIRST_CONTACT[0], person, FIRST_CONTACT[2], {}])
    context.set_offline(True)
    page.click("#submit-filling")
    page.wait_for_url(f"**/fill/{client_id}/offline")
    page.click("[data-offline=finish]")
    page.wait_for_url("**/outbox")
    # The connection is back but the server cannot be reached: the record waits (blocked
    # for the whole browser: the service worker's Background Sync would send it too).
    context.route("**/offline/records", lambda route: route.abort())
    context.set_offline(False)
    page.goto(f"{server['url']}/outbox")
    expect(page.locator("#outbox-table tbody tr")).to_have_count(1)

    _sign_out(page)
    warning = page.locator("#sign-out-warning")
    expect(warning).to_contain_text("1 forms in the outbox are not sent yet")
    assert "/outbox" in page.url  # still signed in, nothing gone
    page.click("form[action='/logout'] button")  # signing out anyway
    page.wait_for_url("**/login")
    waiting = page.evaluate("IntakeOffline.outbox().then(r => r.map(x => x.state))")
    assert waiting in (["failed"], ["waiting"]), waiting
    assert page.evaluate("IntakeOffline.owner()") is None  # the user's key is forgotten
    assert _count(server, "SELECT count(*) FROM submissions WHERE client_id = ?", client_id) == 0

    context.unroute("**/offline/records")
    sign_in(page, server, "b.leaving")  # the owner's next sign-in sends it
    page.goto(f"{server['url']}/outbox")
    page.click("#outbox-send")
    expect(page.locator("#outbox-status")).to_have_text("Nothing waits to be sent.")
    assert _count(server, "SELECT count(*) FROM submissions WHERE client_id = ?", client_id) == 1
    context.close()
