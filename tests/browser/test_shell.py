"""The mobile shell in a real Chromium at 360 x 740: sign in, no console errors, language."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in, sign_out

pytestmark = pytest.mark.browser


def test_sign_in_and_out_on_a_phone(phone, server) -> None:
    errors: list[str] = []
    phone.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(phone, server, "b.worker")
    assert phone.locator("h1").inner_text().startswith("Welcome")
    # Nothing overflows the phone's width.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    sign_out(phone)
    phone.wait_for_url(f"{server['url']}/login")
    assert errors == [], errors  # includes CSP violations


def test_wrong_password_message(phone, server) -> None:
    phone.goto(f"{server['url']}/login")
    phone.fill("#username", "b.worker")
    phone.fill("#password", "not the right password")
    phone.click("button[type=submit].primary")
    assert "Sign-in failed" in phone.locator("[role=alert]").inner_text()


def test_language_switcher(phone, server) -> None:
    phone.goto(f"{server['url']}/login")
    phone.click("button[value=lt]")
    phone.wait_for_load_state()
    assert phone.locator("html").get_attribute("lang") == "lt"
    phone.click("button[value=en]")


def test_tap_targets_are_large_enough(phone, server) -> None:
    phone.goto(f"{server['url']}/login")
    box = phone.locator("button[type=submit].primary").bounding_box()
    assert box is not None and box["height"] >= 44


def test_admin_sees_a_refusal_swapped_in_by_htmx(phone, server) -> None:
    sign_in(phone, server, "b.admin")
    phone.goto(f"{server['url']}/admin/users")
    # The "Add a user" card's own summary (the bar's menu is a <details> too).
    phone.locator("details:has(#new-username) > summary").click()
    phone.fill("#new-username", "bad name!")
    # An organisation administrator adds users to their own organisation only:
    # there is no organisation to type or choose.
    assert phone.locator("#new-org").count() == 0
    with phone.expect_response(lambda r: r.url.endswith("/admin/users")) as answer:
        phone.click("text=Add user")
    # htmx sent it, got the 422 page, and swapped its block in place.
    assert answer.value.status == 422
    assert answer.value.request.headers.get("hx-request") == "true"
    alert = phone.locator("#users [role=alert]")
    alert.wait_for()
    assert "A username has" in alert.inner_text()
    assert phone.evaluate("document.querySelectorAll('#users').length") == 1
