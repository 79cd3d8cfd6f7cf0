"""Translations and locale-aware formatting.

The locale of the person reading is held in a context variable set once per
request (user preference, then the language switcher, then Accept-Language),
so service code and templates call `gettext` without passing it around.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import io
import logging
import os
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale, dates, numbers
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED_LOCALES: tuple[str, ...] = ("en", "lt", "ru", "uk", "pl", "lv", "ar")
DEFAULT_LOCALE = "en"
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "lt": "Lietuvių",
    "ru": "Русский",
    "uk": "Українська",
    "pl": "Polski",
    "lv": "Latviešu",
    "ar": "العربية",
}
# Direction comes from the language, never from the text (one stray "." must not flip it).
RIGHT_TO_LEFT: frozenset[str] = frozenset({"ar", "fa", "he", "ku", "ps", "ur", "yi", "dv"})

log = logging.getLogger("intake.i18n")

_current_locale: contextvars.ContextVar[str] = contextvars.ContextVar(
    "intake_locale", default=DEFAULT_LOCALE
)
_current_timezone: contextvars.ContextVar[str] = contextvars.ContextVar(
    "intake_timezone", default="UTC"
)


class CatalogMissing(RuntimeError):
    """A shipped locale has neither a compiled nor a source catalog."""


class CatalogIncomplete(RuntimeError):
    """A shipped locale misses translations (refused in production)."""


def _po_path(locale: str, locales_dir: Path) -> Path:
    return locales_dir / locale / "LC_MESSAGES" / "messages.po"


def read_catalog(locale: str, locales_dir: Path = LOCALES_DIR) -> Catalog:
    """The source catalog (.po) of one locale."""
    with _po_path(locale, locales_dir).open("rb") as handle:
        return read_po(handle, locale=locale)


def load_translations(locale: str, locales_dir: Path = LOCALES_DIR) -> NullTranslations:
    """The catalog of `locale`: the compiled one when it is current, else the .po read directly.

    A checkout served without `make` has no .mo files; falling back silently to
    English would show English under a page that claims another language.
    """
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    po = _po_path(locale, locales_dir)
    mo = po.with_suffix(".mo")
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return Translations(handle, domain="messages")
    if not po.is_file():
        raise CatalogMissing(f"no catalog for the locale '{locale}'")
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(locale, locales_dir))
    buffer.seek(0)
    return Translations(buffer, domain="messages")


@cache
def translations_for(locale: str) -> NullTranslations:
    """The catalog of one locale (English is the source language)."""
    return load_translations(locale)


def untranslated(locale: str, locales_dir: Path = LOCALES_DIR) -> list[str]:
    """Messages of the template that `locale` lacks or marks fuzzy."""
    if locale == DEFAULT_LOCALE:
        return []
    with (locales_dir / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    catalog = read_catalog(locale, locales_dir)
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id)
        strings = found.string if found is not None else ""
        complete = all(strings) if isinstance(strings, tuple) else bool(strings)
        if found is None or not complete or found.fuzzy:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def check_catalogs(*, production: bool, locales_dir: Path = LOCALES_DIR) -> list[str]:
    """Load every shipped catalog at start-up, log them, refuse an incomplete one in production."""
    served = []
    for locale in SUPPORTED_LOCALES:
        load_translations(locale, locales_dir)
        missing = untranslated(locale, locales_dir)
        if missing:
            if production:
                raise CatalogIncomplete(
                    f"the '{locale}' catalog misses {len(missing)} messages; "
                    "run `make messages`, translate, and `intake i18n report`"
                )
            log.warning("locale %s misses %d messages; English shows instead", locale, len(missing))
        served.append(locale)
    log.info("serving locales: %s", ", ".join(served))
    translations_for.cache_clear()
    return served


def environment_locale(environ: Mapping[str, str] | None = None) -> str:
    """The supported locale the environment asks for (LANGUAGE, then LC_ALL, LC_MESSAGES, LANG)."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if not value:
            continue
        for part in value.split(":"):
            code = part.split(".")[0].split("@")[0].split("_")[0].lower()
            if code in SUPPORTED_LOCALES:
                return code
        if name != "LANGUAGE":
            # The first locale variable set decides; LANGUAGE only adds preferences.
            return DEFAULT_LOCALE
    return DEFAULT_LOCALE


def direction(locale: str) -> str:
    """'rtl' or 'ltr' for a language code, from the language alone."""
    return "rtl" if locale.split("_")[0].split("-")[0] in RIGHT_TO_LEFT else "ltr"


def set_locale(locale: str) -> contextvars.Token[str]:
    """Make `locale` the current one for this request or task."""
    return _current_locale.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)


def get_locale() -> str:
    """The locale of the person being answered."""
    return _current_locale.get()


def set_timezone(name: str) -> contextvars.Token[str]:
    """Make `name` the time zone dates are shown in."""
    return _current_timezone.set(name)


def gettext(message: str, **variables: object) -> str:
    """Translate `message` into the current locale, then fill in %(name)s variables."""
    text = translations_for(get_locale()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """Translate a message with a plural form; `num` is available as %(num)s."""
    text = translations_for(get_locale()).ungettext(singular, plural, n)
    return text % {"num": n, **variables}


def lazy_gettext(message: str, **variables: object) -> LazyProxy:
    """A message translated only when shown, for module-level constants."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


def negotiate(accept_language: str | None) -> str | None:
    """Pick a supported locale from an Accept-Language header, or None."""
    if not accept_language:
        return None
    wanted = []
    for part in accept_language.split(","):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        if tag:
            wanted.append((weight, tag.strip().replace("-", "_")))
    wanted.sort(key=lambda item: -item[0])
    found = Locale.negotiate([tag for _, tag in wanted], list(SUPPORTED_LOCALES), sep="_")
    return str(found.language) if found else None


def format_datetime(value: dt.datetime | None, format: str = "medium") -> str:
    """A moment in the reader's locale and time zone."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return dates.format_datetime(
        value,
        format=format,
        tzinfo=dates.get_timezone(_current_timezone.get()),
        locale=get_locale(),
    )


def format_date(value: dt.date | None, format: str = "medium") -> str:
    """A calendar date in the reader's locale."""
    return "" if value is None else dates.format_date(value, format=format, locale=get_locale())


def format_number(value: int | float | Decimal | None) -> str:
    """A number in the reader's locale."""
    return "" if value is None else numbers.format_decimal(value, locale=get_locale())
