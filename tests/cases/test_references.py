"""References read over the phone: no look-alike characters, random, unique."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases import references

from .helpers import open_case


def test_a_reference_has_no_look_alike_characters() -> None:
    drawn = [references.generate() for _ in range(2000)]
    assert all(re.fullmatch(r"[A-Z2-9]{3}-[A-Z2-9]{3}", ref) for ref in drawn)
    assert not set("".join(drawn)) & set("01OIL")
    # Random, not a counter: thousands of draws, (almost) no repeats, no order.
    assert len(set(drawn)) >= 1995
    assert drawn != sorted(drawn)


def test_a_taken_reference_is_drawn_again(
    db: Session, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = open_case(db, worker)
    draws = iter([first.reference, first.reference, "ABC-DEF"])
    monkeypatch.setattr(references, "generate", lambda: next(draws))
    second = open_case(db, worker)
    assert second.reference == "ABC-DEF"


def test_no_free_reference_is_an_error_not_a_loop(
    db: Session, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = open_case(db, worker).reference
    monkeypatch.setattr(references, "generate", lambda: taken)
    with pytest.raises(references.NoFreeReference):
        references.unused(db=db)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("k7m-4qx", "K7M-4QX"), (" K7M 4QX ", "K7M-4QX"), ("k7m4qx", "K7M-4QX"), ("K0M-4QX", None)],
)
def test_a_typed_reference_is_normalised(typed: str, stored: str | None) -> None:
    assert references.normalise(typed) == stored
