"""Fingerprints match one person written two ways, and reveal nothing without the key."""

from __future__ import annotations

import datetime as dt

from intake.overlap.fingerprint import fingerprints, normalise_name

KEY = b"k" * 32
TODAY = dt.date(2026, 11, 28)


def _fp(given: str, family: str, birth_date: dt.date | None = None, age: int | None = None):
    return fingerprints(
        key=KEY, given=given, family=family, birth_date=birth_date, age=age, today=TODAY
    )


def test_scripts_diacritics_order_and_spelling_variants_meet() -> None:
    assert normalise_name("Ольга", "Иванова") == normalise_name("Olga", "Ivanova")
    assert normalise_name("Rūta", "Kazlauskienė") == normalise_name("RUTA", "kazlauskiene")
    assert normalise_name("Ivanova", "Olga") == normalise_name("Olga", "Ivanova")
    assert normalise_name("Юлія", "Шевченко") == normalise_name("Julija", "Sevcenko")
    assert normalise_name("Anna", "") == normalise_name("Ana", "")


def test_different_people_do_not_meet() -> None:
    assert normalise_name("Olga", "Ivanova") != normalise_name("Olga", "Petrova")
    born = dt.date(2009, 5, 1)
    assert not _fp("Olga", "Ivanova", born) & _fp("Olga", "Ivanova", dt.date(1995, 5, 1))


def test_same_birth_date_shares_the_exact_key() -> None:
    born = dt.date(2009, 5, 1)
    assert len(_fp("Olga", "Ivanova", born) & _fp("Ольга", "Иванова", born)) == 2


def test_an_age_alone_meets_a_birth_date() -> None:
    assert _fp("Olga", "Ivanova", age=17) & _fp("Olga", "Ivanova", dt.date(2009, 5, 1))


def test_missing_name_or_birth_data_gives_no_fingerprint() -> None:
    assert _fp("", "", dt.date(2009, 5, 1)) == set()
    assert _fp("Olga", "Ivanova") == set()


def test_keyed_and_opaque() -> None:
    born = dt.date(2009, 5, 1)
    ours = _fp("Olga", "Ivanova", born)
    theirs = fingerprints(
        key=b"x" * 32, given="Olga", family="Ivanova", birth_date=born, age=None, today=TODAY
    )
    assert not ours & theirs
    for value in ours:
        assert "olga" not in value and "2009" not in value and len(value) == 64
