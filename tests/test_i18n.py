"""Every shipped locale is complete, and pages follow the reader's language."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from intake import i18n

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "locales" / "messages.pot"


def _catalog(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def test_template_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(__import__("sys").executable).parent / "pybabel"),
            "extract",
            "-F",
            "babel.cfg",
            # As `make messages`: babel skips folders starting with "_" (templates/_partials).
            "--ignore-dirs=.* __pycache__",
            "--no-location",
            "--omit-header",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    shipped = {m.id for m in _catalog(POT) if m.id}
    extracted = {m.id for m in _catalog(fresh) if m.id}
    assert extracted - shipped == set(), "run `make messages`: new text is not in the catalog"


@pytest.mark.parametrize("locale", [loc for loc in i18n.SUPPORTED_LOCALES if loc != "en"])
def test_shipped_locale_is_complete(locale: str) -> None:
    catalog = _catalog(ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po")
    template = _catalog(POT)
    missing, fuzzy = [], []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        if translated is None or not (
            all(translated.string) if isinstance(translated.string, tuple) else translated.string
        ):
            missing.append(message.id)
        elif translated.fuzzy:
            fuzzy.append(message.id)
    assert missing == [], f"{locale}: {len(missing)} untranslated, e.g. {missing[:3]}"
    assert fuzzy == []


@pytest.mark.parametrize("locale", [loc for loc in i18n.SUPPORTED_LOCALES if loc != "en"])
def test_placeholders_survive_translation(locale: str) -> None:
    import re

    catalog = _catalog(ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po")
    pattern = re.compile(r"%\((\w+)\)s")
    for message in catalog:
        if not message.id or not message.string:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        for target in targets:
            assert set(pattern.findall(target)) <= set(
                pattern.findall(
                    " ".join(message.id if isinstance(message.id, tuple) else (message.id,))
                )
            ), (locale, source)


def test_compiled_catalog_translates() -> None:
    i18n.set_locale("lt")
    try:
        assert i18n.gettext("Sign in") != "Sign in"
    finally:
        i18n.set_locale("en")


def test_accept_language_negotiation() -> None:
    assert i18n.negotiate("ru-RU,ru;q=0.9,en;q=0.8") == "ru"
    assert i18n.negotiate("de-DE,de;q=0.9,lt;q=0.5") == "lt"
    assert i18n.negotiate("de-DE") is None
    assert i18n.negotiate(None) is None
    assert i18n.negotiate("en;q=abc, lt") == "lt"


def test_dates_and_numbers_follow_the_locale() -> None:
    import datetime as dt

    moment = dt.datetime(2026, 3, 5, 14, 30, tzinfo=dt.UTC)
    i18n.set_locale("lt")
    assert "kovo" in i18n.format_date(moment.date(), "long")
    assert i18n.format_number(1234.5) == "1\u00a0234,5"
    i18n.set_locale("en")
    assert i18n.format_number(1234.5) == "1,234.5"


@pytest.mark.parametrize(("locale", "forms"), [("lt", 3), ("ru", 3)])
def test_catalogs_know_their_plural_forms(locale: str, forms: int) -> None:
    catalog = _catalog(ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po")
    assert catalog.num_plurals == forms
    i18n.set_locale(locale)
    # 1, 2 and 10 take three different forms in both languages.
    singular, plural = "Add at least %(num)s entry", "Add at least %(num)s entries"
    shown = {i18n.ngettext(singular, plural, n).replace(str(n), "N") for n in (1, 2, 10)}
    assert len(shown) == 3
