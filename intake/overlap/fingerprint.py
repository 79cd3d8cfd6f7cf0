"""Normalise a person's name and birth data, then key it with HMAC.

Two organisations write the same person differently: Cyrillic or Latin
script, with or without diacritics, given and family name swapped, a birth
date or only an age. Names are transliterated to ASCII (anyascii), folded
for common spelling variants, and their words sorted; a birth date gives
one exact key and its year a coarse one; an age alone gives the three
years it may mean. A match is only ever a warning to people, who decide.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

from anyascii import anyascii

# Spelling variants that transliterations of one name commonly differ by.
_FOLDS = (
    ("shch", "s"),
    ("sch", "s"),
    ("sh", "s"),
    ("ch", "c"),
    ("kh", "h"),
    ("zh", "z"),
    ("ts", "c"),
    ("tz", "c"),
    ("ph", "f"),
    ("w", "v"),
    ("x", "ks"),
    ("y", "i"),
    ("j", "i"),
)


def normalise_name(given: str, family: str) -> str:
    """Words of both names, transliterated, folded and sorted ('' when nothing is left)."""
    # The soft sign becomes an apostrophe (Ольга -> Ol'ga): drop it, do not split on it.
    text = anyascii(f"{given} {family}").lower().replace("'", "")
    words = []
    for word in re.findall(r"[a-z]+", text):
        for source, target in _FOLDS:
            word = word.replace(source, target)
        word = re.sub(r"(.)\1+", r"\1", word)  # doubled letters: Anna / Ana
        if word:
            words.append(word)
    return " ".join(sorted(words))


def birth_years(*, birth_date: dt.date | None, age: int | None, today: dt.date) -> set[int]:
    """The years of birth the answers allow."""
    if birth_date is not None:
        return {birth_date.year}
    if age is not None and 0 <= age <= 120:
        # Someone aged N was born N or N+1 years ago; allow one more for rounding.
        return {today.year - age - 1, today.year - age, today.year - age + 1}
    return set()


def fingerprints(
    *,
    key: bytes,
    given: str,
    family: str,
    birth_date: dt.date | None,
    age: int | None,
    today: dt.date,
) -> set[str]:
    """Keyed fingerprints of a person; empty when the name or the birth data is missing."""
    name = normalise_name(given, family)
    years = birth_years(birth_date=birth_date, age=age, today=today)
    if not name or not years:
        return set()
    parts = {f"year:{year}:{name}" for year in years}
    if birth_date is not None:
        parts.add(f"date:{birth_date.isoformat()}:{name}")
    return {hmac.new(key, part.encode(), hashlib.sha256).hexdigest() for part in parts}
