"""API tokens on a phone (360 x 740), without JavaScript: made, used, revoked; the docs page."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.conftest import PHONE, sign_in

pytestmark = pytest.mark.browser


def test_a_token_made_on_a_phone_without_javascript_works_until_revoked(browser, server) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, java_script_enabled=False)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        sign_in(page, server, "b.worker")
        page.goto(f"{server['url']}/account/tokens")
        page.fill("#token-name", "Hotline sync")
        page.check("input[name=scopes][value='cases:read']")
        page.select_option("#token-days", "7")
        page.click("#new-token-form button[type=submit]")
        secret = page.locator("#token-secret").inner_text().strip()
        assert secret.startswith("itk_")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        api = f"{server['url']}/api/v1/definitions"
        headers = {"Authorization": f"Bearer {secret}"}
        assert httpx.get(api, headers=headers).status_code == 200
        page.goto(f"{server['url']}/account/tokens")
        page.click("#token-list form button[type=submit]")
        assert "Revoked" in page.locator("#token-list").inner_text()
        refused = httpx.get(api, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "token_revoked"
        assert errors == [], errors
    finally:
        context.close()


def test_the_docs_page_fits_a_phone_with_no_csp_violation(phone, server) -> None:
    errors: list[str] = []
    phone.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    phone.goto(f"{server['url']}/api/v1/docs")
    assert phone.locator(".api-operation").count() >= 4
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert errors == [], errors
