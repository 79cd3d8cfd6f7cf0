"""A supervisor sets up a second factor on a phone, signs out and back in with a code.

The codes are computed with pyotp, the library the server uses, from the key the page shows."""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.browser.conftest import PASSWORD, sign_in, sign_out

pytestmark = pytest.mark.browser


def test_a_supervisor_enrols_and_signs_in_with_a_code(phone, server) -> None:
    server["cli"](
        "users",
        "create",
        "b.mfa",
        "--role",
        "supervisor",
        "--org",
        "Browser NGO",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    errors: list[str] = []
    phone.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(phone, server, "b.mfa")
    phone.goto(f"{server['url']}/account/mfa")
    phone.click("#start-mfa")
    assert phone.locator("figure.qr svg").is_visible()
    app = pyotp.TOTP(phone.locator("#totp-secret").inner_text())
    phone.fill("#code", app.now())
    phone.click("button[type=submit].primary")
    assert phone.locator("#recovery-codes li").count() == 10
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    sign_out(phone)
    phone.wait_for_url(f"{server['url']}/login")

    phone.fill("#username", "b.mfa")
    phone.fill("#password", PASSWORD)
    phone.click("button[type=submit].primary")
    phone.wait_for_url(f"{server['url']}/login/code")
    # The code just used is refused; the app's next one is accepted.
    phone.fill("#code", app.now())
    phone.click("button[type=submit].primary")
    assert "not right" in phone.locator("[role=alert]").inner_text()
    phone.fill("#code", app.at(time.time() + 30))
    phone.click("button[type=submit].primary")
    phone.wait_for_url(f"{server['url']}/")
    assert phone.locator("h1").inner_text().startswith("Welcome")
    # The refused code answered 401, as it should; nothing else went wrong (CSP included).
    assert [e for e in errors if "status of 401" not in e] == [], errors
