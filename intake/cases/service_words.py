"""Services in the reader's words: a type's label, a quantity in its unit, what a step
still needs ("Needs 1 more psychological session"), each plural-aware.

The catalogue (workflows/catalogues/services.yaml) carries each type's label per
language; counted phrases need plural forms a label cannot give, so the shipped
types have their own messages here, and any other type falls back to its label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from babel.numbers import format_currency

from intake.i18n import get_locale, ngettext
from intake.workflow.services import shipped_catalogue


def service_label(code: str) -> str:
    """A service type's name in the reader's language (its code if the catalogue lacks it)."""
    catalogue = shipped_catalogue()
    kind = catalogue.types.get(code)
    if kind is None:
        return code
    return kind.label.get(get_locale()) or kind.label.get(catalogue.languages[0], code)


def service_unit(code: str) -> str:
    """The unit a service type is counted in ('item' for a type the catalogue lacks)."""
    kind = shipped_catalogue().types.get(code)
    return kind.unit if kind is not None else "item"


_UNITS: Mapping[str, Callable[[int], str]] = {
    "item": lambda n: ngettext("%(num)s item", "%(num)s items", n),
    "meal": lambda n: ngettext("%(num)s meal", "%(num)s meals", n),
    "package": lambda n: ngettext("%(num)s package", "%(num)s packages", n),
    "night": lambda n: ngettext("%(num)s night", "%(num)s nights", n),
    "session": lambda n: ngettext("%(num)s session", "%(num)s sessions", n),
    "trip": lambda n: ngettext("%(num)s trip", "%(num)s trips", n),
    "hour": lambda n: ngettext("%(num)s hour", "%(num)s hours", n),
}


def quantity_text(unit: str, quantity: int) -> str:
    """A quantity in its unit for the reader: '3 meals', '2 nights', '€150.00'."""
    if unit == "eur":
        return format_currency(quantity, "EUR", locale=get_locale())
    return _UNITS.get(unit, _UNITS["item"])(quantity)


_NEEDS: Mapping[str, Callable[[int], str]] = {
    "meal": lambda n: ngettext("Needs %(num)s more meal", "Needs %(num)s more meals", n),
    "hygiene_kit": lambda n: ngettext(
        "Needs %(num)s more hygiene kit", "Needs %(num)s more hygiene kits", n
    ),
    "clothing": lambda n: ngettext(
        "Needs %(num)s more item of clothing", "Needs %(num)s more items of clothing", n
    ),
    "shelter_night": lambda n: ngettext(
        "Needs %(num)s more night of shelter", "Needs %(num)s more nights of shelter", n
    ),
    "financial_allowance": lambda n: ngettext(
        "Needs %(num)s more euro of financial allowance",
        "Needs %(num)s more euros of financial allowance",
        n,
    ),
    "transport": lambda n: ngettext(
        "Needs %(num)s more transport", "Needs %(num)s more transports", n
    ),
    "medical_visit": lambda n: ngettext(
        "Needs %(num)s more medical visit", "Needs %(num)s more medical visits", n
    ),
    "psychological_session": lambda n: ngettext(
        "Needs %(num)s more psychological session", "Needs %(num)s more psychological sessions", n
    ),
    "legal_consultation": lambda n: ngettext(
        "Needs %(num)s more legal consultation", "Needs %(num)s more legal consultations", n
    ),
    "interpretation": lambda n: ngettext(
        "Needs %(num)s more hour of interpretation",
        "Needs %(num)s more hours of interpretation",
        n,
    ),
    "education_session": lambda n: ngettext(
        "Needs %(num)s more education or training session",
        "Needs %(num)s more education or training sessions",
        n,
    ),
    "employment_support": lambda n: ngettext(
        "Needs %(num)s more employment support session",
        "Needs %(num)s more employment support sessions",
        n,
    ),
    "family_tracing": lambda n: ngettext(
        "Needs %(num)s more family tracing", "Needs %(num)s more family tracings", n
    ),
    "return_travel": lambda n: ngettext(
        "Needs %(num)s more return journey", "Needs %(num)s more return journeys", n
    ),
}


def needs_more(code: str, missing: int) -> str:
    """What a step still needs of a service, as a sentence in the reader's language."""
    sentence = _NEEDS.get(code)
    if sentence is not None:
        return sentence(missing)
    return ngettext(
        "Needs %(num)s more: %(service)s",
        "Needs %(num)s more: %(service)s",
        missing,
        service=service_label(code),
    )
