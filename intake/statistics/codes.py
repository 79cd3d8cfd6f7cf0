"""The codes the field's standards use for our forms' choices, and the CTDC age bands.

Our forms name choices in their own words (`lithuania`, `labour`); CTDC and HTCDS v2.0 use
ISO 3166 alpha-2 countries and their own coded values. The maps here are the defaults;
the HTCDS exchange file reads its mapping from exports/htcds.yaml, which an
administrator may adjust (checked by `intake exports check`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# CTDC's bins (Counter Trafficking Data Collaborative): lower bound, label.
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (0, "0-8"),
    (9, "9-17"),
    (18, "18-20"),
    (21, "21-23"),
    (24, "24-26"),
    (27, "27-29"),
    (30, "30-38"),
    (39, "39-47"),
    (48, "48+"),
)
UNKNOWN = "unknown"

COUNTRIES: Mapping[str, str] = {
    "lithuania": "LT",
    "latvia": "LV",
    "estonia": "EE",
    "poland": "PL",
    "ukraine": "UA",
    "belarus": "BY",
    "russia": "RU",
    "moldova": "MD",
    "romania": "RO",
    "bulgaria": "BG",
    "georgia": "GE",
    "uzbekistan": "UZ",
    "tajikistan": "TJ",
    "kyrgyzstan": "KG",
    "vietnam": "VN",
    "nigeria": "NG",
    "philippines": "PH",
    "india": "IN",
    "united_kingdom": "GB",
    "germany": "DE",
    "norway": "NO",
}


def age_band(age: Any) -> str:
    """The CTDC band of an age in whole years, or "unknown"."""
    if isinstance(age, bool) or not isinstance(age, int | float) or not 0 <= age <= 130:
        return UNKNOWN
    label = UNKNOWN
    for lower, name in AGE_BANDS:
        if age >= lower:
            label = name
    return label


def is_minor_band(band: str) -> bool | None:
    """Whether a band is under 18 (None: unknown)."""
    if band == UNKNOWN:
        return None
    return band in ("0-8", "9-17")


def choice(value: Any) -> str:
    """A choice name as stored, never free text ("unknown" for anything else)."""
    if isinstance(value, str) and value.isidentifier() and len(value) <= 40:
        return value
    return UNKNOWN


def choices(value: Any) -> tuple[str, ...]:
    """The names of a multiple choice, sorted, without anything that is not a name."""
    if not isinstance(value, list):
        return ()
    return tuple(sorted({choice(v) for v in value if choice(v) != UNKNOWN}))


def iso_country(name: str) -> str:
    """ISO 3166 alpha-2 of a country choice, or "" (other, unknown)."""
    return COUNTRIES.get(name, "")
