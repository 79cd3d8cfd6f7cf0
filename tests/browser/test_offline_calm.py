"""A calmer form on a bad connection, with no service worker to help: Next that cannot
reach the server (or finds it busy) says "not saved", keeps the answers and the buttons,
and a retry sends the page once the connection is back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser, server):
    """A phone whose browser runs no service worker (an old one, or one that refused it)."""
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB", service_workers="block"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_next_without_a_connection_says_so_and_a_retry_saves(phone, server) -> None:
    sign_in(phone, server, "b.worker")
    phone.goto(f"{server['url']}/forms/first_contact/new")
    phone.click("button.primary")
    phone.wait_for_url(f"{server['url']}/fill/*")
    phone.fill("#f-contact_date", "2024-03-01")
    phone.select_option("#f-where_met", "outreach")

    # The connection is gone: the request fails outright.
    phone.route("**/fill/*", lambda route: route.abort("internetdisconnected"))
    phone.click("#fill-form .nav-buttons button.primary")
    status = phone.locator("#connection-status")
    expect(status).to_contain_text("Not saved: no connection")
    retry = phone.locator(".connection-retry")
    expect(retry).to_be_visible()
    expect(phone.locator("#fill-form .nav-buttons button.primary")).to_be_enabled()
    assert phone.input_value("#f-contact_date") == "2024-03-01"
    assert phone.locator(".progress").inner_text() == "Page 1 of 4"

    # The server is busy: its 503 is said as such, nothing is swapped in.
    phone.unroute("**/fill/*")
    phone.route(
        "**/fill/*",
        lambda route: (
            route.fulfill(
                status=503, body="busy", headers={"Retry-After": "2", "Content-Type": "text/plain"}
            )
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    retry.click()
    expect(status).to_contain_text("Not saved: the server is busy")
    assert phone.input_value("#f-contact_date") == "2024-03-01"

    # Back again: the retry sends the page, and the next one comes in one round trip.
    phone.unroute("**/fill/*")
    posts: list[str] = []
    phone.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    gets: list[str] = []
    phone.on(
        "request",
        lambda r: (
            gets.append(r.url)
            if r.method == "GET" and "/fill/" in r.url and not r.url.endswith("/offline")
            else None
        ),
    )
    retry.click()
    phone.wait_for_selector("text=Page 2 of 4")
    assert len(posts) == 1 and gets == []
    assert phone.locator(".connection-message").inner_text() == ""
