"""Right to left in a real Chromium at 360 x 740: Arabic pages mirror, and a
Lithuanian interface interviewing in Arabic shows only the questions right to left.

Direction comes from the language (intake.i18n.direction), never from the text,
so an Arabic page keeps `dir="rtl"` even where a label starts with a Latin word
or a digit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import PHONE, sign_in
from tests.browser.test_case_work import CONSENT, FIRST_CONTACT, _answer, _fill, _submit_to

pytestmark = pytest.mark.browser


@pytest.fixture
def arabic_phone(browser, server) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="ar")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def lithuanian_phone(browser, server) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="lt-LT")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _box(page: Page, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


def _is_on_the_right(page: Page, selector: str, *, text: bool = False) -> bool:
    """The element's box (or its text's, for a block) sits against the right edge of
    its container rather than the left."""
    box = page.locator(selector).first.evaluate(
        "(el, text) => { let r = el.getBoundingClientRect();"
        " if (text) { const range = document.createRange(); range.selectNodeContents(el);"
        " r = range.getBoundingClientRect(); } return {x: r.x, width: r.width}; }",
        text,
    )
    parent = page.locator(selector).first.evaluate(
        "el => { const r = el.parentElement.getBoundingClientRect();"
        " return {x: r.x, width: r.width}; }"
    )
    gap_left = box["x"] - parent["x"]
    gap_right = parent["x"] + parent["width"] - (box["x"] + box["width"])
    return gap_right < gap_left


def _next_page(page: Page, answers: dict[str, object]) -> None:
    progress = page.locator(".progress").inner_text().strip()
    for name, value in answers.items():
        _answer(page, name, value)
    page.click(".nav-buttons button.primary")
    page.wait_for_function(
        "(old) => document.querySelector('.progress').textContent.trim() !== old", arg=progress
    )


def _next_is_right_of_back(page: Page) -> bool:
    """Next comes first in the markup: on the right only when the line runs right to left."""
    next_box = _box(page, ".nav-buttons button.primary")
    back_box = _box(page, ".nav-buttons button[value=back]")
    return next_box["x"] > back_box["x"]


def _screenshot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0


def _document_direction(page: Page) -> tuple[str, str, str]:
    return tuple(
        page.evaluate(
            "() => [document.documentElement.lang, document.documentElement.dir,"
            " getComputedStyle(document.body).direction]"
        )
    )


def test_arabic_pages_are_right_to_left_and_mirrored(
    arabic_phone: Page, server, tmp_path: Path
) -> None:
    page, base = arabic_phone, server["url"]

    page.goto(f"{base}/login")
    _screenshot(page, tmp_path / "sign-in.png")
    assert _document_direction(page) == ("ar", "rtl", "rtl")
    assert _is_on_the_right(page, "button[type=submit].primary")
    assert _is_on_the_right(page, "label[for=username]", text=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    sign_in(page, server, "b.worker")
    page.click("#new-intake")
    page.check("#language-ar")
    page.click("#start-intake")
    page.wait_for_url(f"{base}/fill/*")
    _screenshot(page, tmp_path / "intake.png")
    assert _document_direction(page) == ("ar", "rtl", "rtl")
    assert page.locator(".questions").first.get_attribute("dir") == "rtl"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _next_page(page, CONSENT[0])
    _screenshot(page, tmp_path / "intake-page-2.png")
    assert _next_is_right_of_back(page)

    _fill(page, CONSENT[1:])
    consent_url = page.url
    page.click("#submit-filling")
    page.wait_for_function("(old) => location.href !== old", arg=consent_url)
    page.wait_for_url(f"{base}/fill/*")
    _fill(page, FIRST_CONTACT)
    _submit_to(page, f"{base}/cases/*")
    _screenshot(page, tmp_path / "case.png")
    assert _document_direction(page) == ("ar", "rtl", "rtl")
    heading = _box(page, "h1")
    assert heading["x"] + heading["width"] > PHONE["width"] / 2
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_lithuanian_interface_interviewing_in_arabic(
    lithuanian_phone: Page, server, tmp_path: Path
) -> None:
    page, base = lithuanian_phone, server["url"]
    sign_in(page, server, "b.worker")
    page.goto(f"{base}/forms/first_contact/new")
    page.check("#language-ar")
    page.click("button.primary")
    page.wait_for_url(f"{base}/fill/*")
    _screenshot(page, tmp_path / "lt-interface-ar-questions.png")

    # The page is Lithuanian and left to right ...
    assert _document_direction(page) == ("lt", "ltr", "ltr")
    next_button = page.locator(".nav-buttons button.primary")
    assert next_button.evaluate("el => getComputedStyle(el).direction") == "ltr"
    assert next_button.inner_text().strip() == "Toliau"
    # ... and the questions are Arabic, right to left, from the language alone.
    questions = page.locator(".questions").first
    assert (questions.get_attribute("lang"), questions.get_attribute("dir")) == ("ar", "rtl")
    label = page.locator(".questions label").first
    assert label.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert "تاريخ أول تواصل" in questions.inner_text()
    assert page.locator("h1").first.get_attribute("dir") == "rtl"
    _next_page(page, {"contact_date": "2024-03-01", "where_met": "outreach"})
    _screenshot(page, tmp_path / "lt-interface-ar-questions-page-2.png")
    assert (
        page.locator(".questions label").first.evaluate("el => getComputedStyle(el).direction")
        == "rtl"
    )
    assert not _next_is_right_of_back(page)
