"""A referral across organisations, on a phone (360 x 740) in a real Chromium.

An NGO outreach worker records a girl and refers her to the municipality's psychological
service, sharing her first-contact form; the municipality's supervisor accepts, sees the
shared form, records a session on its own linked case and closes the referral as delivered;
the NGO worker sees the outcome; the girl withdraws her consent to referral and the
municipality's view of the shared form disappears at once.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, sign_in
from tests.browser.test_case_work import _fill, _sign_out

pytestmark = pytest.mark.browser

TODAY = dt.date.today().isoformat()
NAME = "Марина"
SESSION = "First session held: sleeping better."
CONSENT_YES = [
    {"consent_date": TODAY, "explained_in": "russian"},
    {
        "consent_services": "yes",
        "consent_sharing": "yes",
        "sharing_with": ["social_services"],
        "consent_referral": "yes",
        "consent_return": "not_now",
        "worker_confirms": "yes",
    },
]
CONSENT_WITHDRAWN = [
    {"consent_date": TODAY, "explained_in": "russian"},
    {
        "consent_services": "yes",
        "consent_sharing": "no",
        "consent_referral": "no",
        "consent_return": "not_now",
        "worker_confirms": "yes",
    },
]
FIRST_CONTACT = [
    {"contact_date": TODAY, "where_met": "outreach"},
    {"given_name": NAME, "family_name": "Котова", "age": "16", "gender": "female"},
    {"immediate_needs": ["food"], "safety_risk": "low"},
    {},
]


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_an_ngo_refers_a_girl_to_the_municipality_psychologist(phone: Page, server) -> None:
    base = server["url"]
    server["cli"](  # type: ignore[operator]
        "users",
        "create",
        "m.psych",
        "--role",
        "supervisor",
        "--org",
        "Browser Municipality",
        "--org-kind",
        "municipality",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )

    # The NGO worker records the girl, then refers her for psychological support.
    sign_in(phone, server, "b.worker")
    phone.click("#new-intake")
    phone.click("#start-intake")
    phone.wait_for_url(f"{base}/fill/*")
    _fill(phone, CONSENT_YES)
    consent_url = phone.url
    phone.click("#submit-filling")
    phone.wait_for_function("(old) => location.href !== old", arg=consent_url)
    phone.wait_for_url(f"{base}/fill/*")
    _fill(phone, FIRST_CONTACT)
    phone.click("#submit-filling")
    phone.wait_for_url(f"{base}/cases/*")
    case_url = phone.url
    phone.click("#referrals a.button")
    phone.wait_for_url("**/referrals/new")
    phone.select_option("#referral-service", "psychological_support")
    municipality = phone.locator("#referral-organisation").evaluate(
        "s => [...s.options].find(o => o.textContent.startsWith('Browser Municipality')).value"
    )
    phone.select_option("#referral-organisation", municipality)
    phone.check('input[name="forms"][value="first_contact"]')
    _fits(phone)
    phone.click("form button.primary")
    phone.wait_for_url(f"{base}/referrals/*")
    referral_url = phone.url
    expect(phone.locator("#referral .status")).to_contain_text("Waiting for an answer")
    _sign_out(phone)

    # The municipality accepts, sees the shared form and records a session.
    sign_in(phone, server, "m.psych")
    expect(phone.locator("#waiting-referrals")).to_have_text("1")
    phone.goto(f"{base}/referrals/incoming")
    phone.click("#incoming-referrals a")
    phone.wait_for_url(referral_url)
    _fits(phone)
    phone.click("form[action$='/accept'] button.primary")
    phone.wait_for_url(referral_url)
    expect(phone.locator("#shared-forms")).to_contain_text(NAME)
    phone.click("#referral a[href^='/cases/']")
    phone.wait_for_url(f"{base}/cases/*")
    assert phone.url != case_url
    phone.fill("#note-text", SESSION)
    phone.click("form[action$='/notes'] button")
    expect(phone.locator("body")).to_contain_text(SESSION)
    phone.goto(referral_url)
    phone.check("input[name='outcome'][value='delivered']")
    phone.click("form[action$='/close'] button")
    phone.wait_for_url(referral_url)
    expect(phone.locator("#referral .outcome").first).to_have_text("Service delivered")
    _sign_out(phone)

    # The NGO sees the outcome (never the municipality's session note), then the girl
    # withdraws her consent to referral.
    sign_in(phone, server, "b.worker")
    phone.goto(referral_url)
    expect(phone.locator("#referral .outcome").first).to_have_text("Service delivered")
    assert SESSION not in phone.content()
    phone.goto(case_url)
    phone.click("#consent form button")
    phone.wait_for_url(f"{base}/fill/*")
    _fill(phone, CONSENT_WITHDRAWN)
    phone.click("#submit-filling")
    phone.wait_for_url(f"{base}/cases/*")
    expect(phone.locator("#consent .withdrawn")).to_be_visible()
    _sign_out(phone)

    # The municipality's view of the shared form is gone.
    sign_in(phone, server, "m.psych")
    phone.goto(referral_url)
    expect(phone.locator("#shared-forms .withdrawn")).to_be_visible()
    assert NAME not in phone.content()
    _fits(phone)
