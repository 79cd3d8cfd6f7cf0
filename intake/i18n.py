"""Translations and locale-aware formatting.

The locale of the person reading is held in a context variable set once per
request (user preference, then the language switcher, then Accept-Language),
so service code and templates call `gettext` without passing it around.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale, dates, numbers
from babel.support import LazyProxy, NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED_LOCALES: tuple[str, ...] = ("en", "lt", "ru")
DEFAULT_LOCALE = "en"
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "lt": "Lietuvių", "ru": "Русский"}

_current_locale: contextvars.ContextVar[str] = contextvars.ContextVar(
    "intake_locale", default=DEFAULT_LOCALE
)
_current_timezone: contextvars.ContextVar[str] = contextvars.ContextVar(
    "intake_timezone", default="UTC"
)


@cache
def translations_for(locale: str) -> NullTranslations:
    """The compiled catalog of one locale (English is the source language)."""
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(str(LOCALES_DIR), [locale], domain="messages")


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
