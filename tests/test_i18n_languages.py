"""Ukrainian, Polish, Latvian and Arabic: served, complete, right to left where the
language is, and never silently English (issue 15)."""

from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from intake import i18n
from intake.accounts.models import User
from intake.cli import main
from intake.definitions import service as definitions
from intake.forms import load_form
from intake.i18n_report import coverage, definition_texts, report_command
from tests.conftest import csrf_from, login

ROOT = Path(__file__).resolve().parent.parent
NEW = ("uk", "pl", "lv", "ar")


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the locales as a fresh checkout has them: .po files, no compiled .mo."""
    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", locales, ignore=shutil.ignore_patterns("*.mo"))
    assert not list(locales.rglob("*.mo"))
    return locales


@pytest.fixture
def served_from(monkeypatch: pytest.MonkeyPatch):
    """Serve the app's catalogs from another locales directory for one test."""

    def serve(locales: Path) -> None:
        monkeypatch.setattr(i18n, "LOCALES_DIR", locales)
        i18n.translations_for.cache_clear()

    yield serve
    i18n.translations_for.cache_clear()


# -- the catalogs -------------------------------------------------------------------------


@pytest.mark.parametrize(("locale", "forms"), [("uk", 3), ("pl", 3), ("lv", 3), ("ar", 6)])
def test_new_catalogs_carry_babels_plural_rules(locale: str, forms: int) -> None:
    catalog = i18n.read_catalog(locale)
    assert catalog.num_plurals == forms
    plurals = [m for m in catalog if m.id and isinstance(m.id, tuple)]
    assert plurals
    for message in plurals:
        assert len(message.string) == forms and all(message.string), message.id


def test_plural_forms_follow_the_language() -> None:
    singular, plural = "%(num)s case", "%(num)s cases"
    shown = {}
    for locale in ("uk", "pl", "ar"):
        i18n.set_locale(locale)
        shown[locale] = [i18n.ngettext(singular, plural, n) for n in (1, 2, 5, 22)]
    assert shown["uk"] == ["1 справа", "2 справи", "5 справ", "22 справи"]
    assert shown["pl"] == ["1 sprawa", "2 sprawy", "5 spraw", "22 sprawy"]
    assert len(set(shown["ar"])) == 4  # one, two, few (3-10) and many (11-99) differ


@pytest.mark.parametrize("locale", NEW)
def test_every_message_is_translated_in_the_new_locales(locale: str) -> None:
    assert i18n.untranslated(locale) == []


def test_footer_word_language_is_in_every_catalog() -> None:
    for locale in i18n.SUPPORTED_LOCALES[1:]:
        i18n.set_locale(locale)
        assert i18n.gettext("Language") != "Language", locale


def test_numbers_and_dates_follow_the_new_locales() -> None:
    import datetime as dt

    i18n.set_locale("pl")
    assert i18n.format_number(1234.5) == "1\u00a0234,5"
    i18n.set_locale("uk")
    assert i18n.format_number(1234.5) == "1\u00a0234,5"
    assert "березня" in i18n.format_date(dt.date(2026, 3, 5), "long")
    i18n.set_locale("ar")
    assert i18n.format_number(1234.5) in ("1,234.5", "\u0661\u066c\u0662\u0663\u0664\u066b\u0665")


# -- direction comes from the language ----------------------------------------------------


def test_direction_comes_from_the_language_never_the_text() -> None:
    assert i18n.direction("ar") == "rtl"
    assert i18n.direction("ar_EG") == "rtl"
    for locale in ("en", "lt", "ru", "uk", "pl", "lv"):
        assert i18n.direction(locale) == "ltr"


def test_an_arabic_page_is_right_to_left(client: TestClient) -> None:
    page = soup(client.get("/login", headers={"Accept-Language": "ar"}).text)
    assert (page.html["lang"], page.html["dir"]) == ("ar", "rtl")
    assert page.find("button", class_="primary").get_text(strip=True) == "تسجيل الدخول"
    switch = page.find("button", attrs={"name": "locale", "value": "uk"})
    assert (switch["lang"], switch["dir"], switch.get_text(strip=True)) == (
        "uk",
        "ltr",
        "Українська",
    )


@pytest.mark.parametrize("locale", ["lt", "ru", "uk", "pl", "lv"])
def test_left_to_right_pages_say_so(client: TestClient, locale: str) -> None:
    page = soup(client.get("/login", headers={"Accept-Language": locale}).text)
    assert (page.html["lang"], page.html["dir"]) == (locale, "ltr")


def test_a_lithuanian_interface_shows_arabic_questions_right_to_left(
    client: TestClient, db: Session, worker: User
) -> None:
    definitions.sync_files(db=db)
    login(client, worker.username)
    headers = {"Accept-Language": "lt"}
    start = client.get("/forms/first_contact/new", headers=headers)
    offered = soup(start.text).find("label", {"for": "language-ar"})
    assert (offered["lang"], offered["dir"]) == ("ar", "rtl")
    client_id = soup(start.text).find("input", {"name": "client_id"})["value"]
    started = client.post(
        "/forms/first_contact/new",
        data={"csrf_token": csrf_from(start.text), "client_id": client_id, "language": "ar"},
        headers=headers,
    )
    assert started.status_code == 303
    page = soup(client.get(started.headers["location"], headers=headers).text)
    assert (page.html["lang"], page.html["dir"]) == ("lt", "ltr")
    questions = page.find(class_="questions")
    assert (questions["lang"], questions["dir"]) == ("ar", "rtl")
    assert "تاريخ أول تواصل" in questions.get_text()
    assert page.find("button", class_="primary").get_text(strip=True) == "Toliau"


def test_ukrainian_is_a_question_language_and_an_explained_in_choice(
    client: TestClient, db: Session, worker: User
) -> None:
    definitions.sync_files(db=db)
    login(client, worker.username)
    offered = soup(client.get("/forms/first_contact/new").text)
    assert offered.find("input", {"name": "language", "value": "uk"}) is not None
    consent = load_form((ROOT / "forms" / "consent.yaml").read_text(), file="consent.yaml")
    explained = next(f for p in consent.pages for f in p.fields if f.name == "explained_in")
    choices = {c.name: c.label for c in explained.choices}
    assert choices["ukrainian"]["en"] == "Ukrainian"
    assert choices["ukrainian"]["uk"] == "Українська"


# -- a checkout without compiled catalogs -------------------------------------------------


def test_a_checkout_without_compiled_catalogs_still_serves_lithuanian(
    client: TestClient, checkout: Path, served_from
) -> None:
    served_from(checkout)
    page = soup(client.get("/login", headers={"Accept-Language": "lt"}).text)
    assert page.html["lang"] == "lt"
    assert page.find("button", class_="primary").get_text(strip=True) == "Prisijungti"
    assert "Kalba:" in page.find("footer").get_text()


def test_a_stale_compiled_catalog_gives_way_to_the_newer_po(checkout: Path) -> None:
    po = checkout / "lt" / "LC_MESSAGES" / "messages.po"
    stale = po.with_suffix(".mo")
    stale.write_bytes(b"not a catalog")
    po.touch()
    stale_time = po.stat().st_mtime - 60
    import os

    os.utime(stale, (stale_time, stale_time))
    assert i18n.load_translations("lt", checkout).ugettext("Sign in") == "Prisijungti"


def test_a_missing_catalog_is_never_silent(checkout: Path) -> None:
    shutil.rmtree(checkout / "pl")
    with pytest.raises(i18n.CatalogMissing):
        i18n.load_translations("pl", checkout)


def test_start_up_logs_the_locales_it_serves(
    checkout: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="intake.i18n"):
        served = i18n.check_catalogs(production=True, locales_dir=checkout)
    assert served == list(i18n.SUPPORTED_LOCALES)
    assert "serving locales: en, lt, ru, uk, pl, lv, ar" in caplog.text


def _drop_one_translation(locales: Path, locale: str, message: str) -> None:
    from babel.messages.pofile import write_po

    catalog = i18n.read_catalog(locale, locales)
    catalog[message].string = ""
    with (locales / locale / "LC_MESSAGES" / "messages.po").open("wb") as handle:
        write_po(handle, catalog)


def test_an_incomplete_locale_is_refused_in_production_and_logged_in_development(
    checkout: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _drop_one_translation(checkout, "lv", "Sign in")
    with pytest.raises(i18n.CatalogIncomplete, match="'lv' catalog misses 1 messages"):
        i18n.check_catalogs(production=True, locales_dir=checkout)
    with caplog.at_level(logging.WARNING, logger="intake.i18n"):
        i18n.check_catalogs(production=False, locales_dir=checkout)
    assert "locale lv misses 1 messages" in caplog.text


# -- definitions and the report -----------------------------------------------------------


def test_every_shipped_form_and_track_text_exists_in_every_locale() -> None:
    for path in [*ROOT.glob("forms/*.yaml"), *ROOT.glob("workflows/*.yaml")]:
        for text in definition_texts([path]):
            missing = [loc for loc in i18n.SUPPORTED_LOCALES if not text.get(loc)]
            assert missing == [], (path.name, text["en"], missing)


def test_the_report_is_complete_for_every_shipped_locale() -> None:
    out = io.StringIO()
    assert report_command(out) == 0, out.getvalue()
    lines = out.getvalue().splitlines()
    for locale in i18n.SUPPORTED_LOCALES:
        row = next(line for line in lines if line.startswith(f"{locale} "))
        assert row.count("100.0 %") == 3, row


def test_the_report_fails_when_a_form_text_or_a_message_is_missing(
    tmp_path: Path, checkout: Path
) -> None:
    forms = tmp_path / "forms"
    forms.mkdir()
    text = (ROOT / "forms" / "guardian.yaml").read_text(encoding="utf-8")
    (forms / "guardian.yaml").write_text(text.replace(', pl: "Opiekun prawny"', "", 1))
    rows = {
        row.locale: row
        for row in coverage(locales_dir=checkout, forms_dir=forms, workflows_dir=ROOT / "workflows")
    }
    assert not rows["pl"].forms.complete and rows["uk"].forms.complete
    assert str(rows["pl"].forms).startswith(" 94.1 %")  # 16 of 17, never rounded up

    _drop_one_translation(checkout, "ar", "Sign in")
    out = io.StringIO()
    assert report_command(out, locales_dir=checkout) == 1
    assert "incomplete: ar" in out.getvalue()


def test_the_report_command_runs_from_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["i18n", "report"]) == 0
    assert "every shipped locale is complete" in capsys.readouterr().out


# -- definition-check problems in the reader's language -----------------------------------

BROKEN_FORM = """id: tiny
version: 1
languages: [en, lt]
title: {en: Tiny, lt: Mažytė}
pages:
  - name: one
    title: {en: One}
    fields:
      - {name: a, type: text, label: {en: A, lt: A}}
"""


def _problems(locale: str) -> list[str]:
    from intake.yaml_source import DefinitionProblems

    i18n.set_locale(locale)
    with pytest.raises(DefinitionProblems) as raised:
        load_form(BROKEN_FORM, file="tiny.yaml")
    return [problem.message for problem in raised.value.problems]


def test_definition_problems_are_shown_in_the_readers_language() -> None:
    assert _problems("en") == ["pages.title has no 'lt' translation"]
    assert _problems("lt") == ["pages.title neturi „lt“ vertimo"]
    assert _problems("uk") == ["pages.title не має перекладу «lt»"]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "uk_UA.UTF-8"}, "uk"),
        ({"LC_ALL": "ar_EG.UTF-8", "LANG": "en_GB.UTF-8"}, "ar"),
        ({"LANGUAGE": "de:pl", "LANG": "de_DE.UTF-8"}, "pl"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_cli_follows_the_environments_language(environ: dict[str, str], expected: str) -> None:
    assert i18n.environment_locale(environ) == expected


def test_expression_problems_are_shown_in_the_readers_language() -> None:
    from intake.expressions import ExpressionError, ValueType, compile_expression

    def problem(locale: str) -> str:
        i18n.set_locale(locale)
        with pytest.raises(ExpressionError) as raised:
            compile_expression("agee > 3", variables={"age": ValueType.NUMBER})
        return raised.value.message

    assert problem("en") == "unknown field 'agee' (did you mean 'age'?)"
    assert problem("pl") == "nieznane pole „agee” (czy chodziło o „age”?)"
    assert problem("ar") == 'حقل غير معروف "agee" (هل تقصد "age"؟)'
