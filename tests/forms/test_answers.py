"""Coercion: what a phone posts becomes a typed answer, or a message the person can act on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from intake.forms import answers as answers_module
from intake.forms import answers_to_json, coerce_value, posted_from_pairs
from intake.forms.definition import FieldDef
from tests.forms.helpers import make_form, page

FORM = make_form(
    page(
        """
        - {name: text, type: text, label: {en: T, lt: T}}
        - {name: textarea, type: textarea, label: {en: T, lt: T}}
        - {name: integer, type: integer, label: {en: I, lt: I}}
        - {name: decimal, type: decimal, label: {en: D, lt: D}}
        - {name: date, type: date, label: {en: D, lt: D}}
        - name: select_one
          type: select_one
          label: {en: S, lt: S}
          choices: [{name: a, label: {en: A, lt: A}}, {name: b, label: {en: B, lt: B}}]
        - name: select_multiple
          type: select_multiple
          label: {en: S, lt: S}
          choices:
            - {name: a, label: {en: A, lt: A}}
            - {name: b, label: {en: B, lt: B}}
            - {name: c, label: {en: C, lt: C}}
        - {name: yes_no, type: yes_no, label: {en: Y, lt: Y}}
        - {name: phone, type: phone, label: {en: P, lt: P}}
        - {name: email, type: email, label: {en: E, lt: E}}
        - {name: acknowledge, type: acknowledge, label: {en: A, lt: A}}
        - {name: note, type: note, label: {en: N, lt: N}}
        """
    )
)


def field(name: str) -> FieldDef:
    return FORM.fields[name]


@pytest.mark.parametrize(
    ("name", "posted", "expected"),
    [
        ("text", "  Ona  Petraitytė \n", "Ona Petraitytė"),
        ("text", "x" * 2000, "x" * 2000),
        ("textarea", "line one\r\nline two  ", "line one\nline two"),
        ("textarea", "x" * 10_000, "x" * 10_000),
        ("integer", " 42 ", 42),
        ("integer", "-3", -3),
        ("integer", 7, 7),
        ("decimal", "2.5", 2.5),
        ("decimal", "2,5", 2.5),
        ("decimal", "-0.75", -0.75),
        ("decimal", 3, 3.0),
        ("date", "2024-02-29", dt.date(2024, 2, 29)),
        ("date", dt.date(2024, 1, 2), dt.date(2024, 1, 2)),
        ("select_one", "b", "b"),
        ("select_one", ["a"], "a"),
        ("select_multiple", ["c", "a", "a"], ["a", "c"]),
        ("select_multiple", "b", ["b"]),
        ("yes_no", "yes", True),
        ("yes_no", "no", False),
        ("yes_no", False, False),
        ("phone", "+370 (612) 34-567", "+370 (612) 34-567"),
        ("email", "worker@example.org", "worker@example.org"),
        ("acknowledge", "on", True),
    ],
)
def test_valid_answers_become_typed_values(name: str, posted: Any, expected: Any) -> None:
    assert coerce_value(field(name), posted) == (expected, None)


@pytest.mark.parametrize("name", [n for n in FORM.fields if n != "note"])
@pytest.mark.parametrize("posted", [None, "", "   ", [], [""]])
def test_blank_is_no_answer_for_every_type(name: str, posted: Any) -> None:
    assert coerce_value(field(name), posted) == (None, None)


@pytest.mark.parametrize(
    ("name", "posted", "message"),
    [
        ("text", "x" * 2001, "This answer is too long (at most 2000 characters)"),
        ("textarea", "x" * 10_001, "This answer is too long (at most 10000 characters)"),
        ("text", "a\x00b", "This answer contains characters that are not allowed"),
        ("text", ["a", "b"], "Give only one answer"),
        ("integer", "4.5", "Enter a whole number"),
        ("integer", "four", "Enter a whole number"),
        ("integer", True, "Enter a whole number"),
        ("integer", "9" * 13, "This number is too large"),
        ("decimal", "1e5", "Enter a number"),
        ("decimal", "nan", "Enter a number"),
        ("decimal", "2,5,0", "Enter a number"),
        ("date", "15/06/2024", "Enter a date as YYYY-MM-DD"),
        ("date", "2023-02-29", "Enter a date as YYYY-MM-DD"),
        ("date", "20240615", "Enter a date as YYYY-MM-DD"),
        ("select_one", "z", "Choose one of the options offered"),
        ("select_multiple", ["a", "z"], "Choose from the options offered"),
        ("yes_no", "maybe", "Answer yes or no"),
        ("phone", "call me", "Enter a phone number: digits, spaces, +, - and brackets only"),
        ("phone", "12", "Enter a phone number: digits, spaces, +, - and brackets only"),
        ("email", "not-an-address", "Enter an email address such as name@example.org"),
        ("email", "a@b", "Enter an email address such as name@example.org"),
        ("note", "anything", "This question does not take an answer"),
    ],
)
def test_wrong_answers_get_a_message_and_no_value(name: str, posted: Any, message: str) -> None:
    assert coerce_value(field(name), posted) == (None, message)


def test_messages_go_through_gettext(monkeypatch: pytest.MonkeyPatch) -> None:
    def marked(message: str, **variables: object) -> str:
        return "[lt] " + (message % variables if variables else message)

    monkeypatch.setattr(answers_module, "_", marked)
    assert coerce_value(field("integer"), "x") == (None, "[lt] Enter a whole number")
    assert coerce_value(field("text"), "x" * 2001)[1] == (
        "[lt] This answer is too long (at most 2000 characters)"
    )


def test_answers_to_json_writes_dates_as_iso_text_in_rows_too() -> None:
    answers = {
        "born": dt.date(2001, 5, 6),
        "needs": ["food"],
        "kids": [{"birthday": dt.date(2020, 1, 1), "name": "A"}],
        "n": 3,
    }
    assert answers_to_json(answers) == {
        "born": "2001-05-06",
        "needs": ["food"],
        "kids": [{"birthday": "2020-01-01", "name": "A"}],
        "n": 3,
    }


def test_posted_from_pairs_groups_multi_selects_and_repeat_rows() -> None:
    pairs = [
        ("given_name", "Ona"),
        ("needs", "food"),
        ("needs", "shelter"),
        ("kids.1.kid_age", "4"),
        ("kids.0.kid_age", "2"),
        ("kids.0.langs", "lt"),
        ("kids.0.langs", "ru"),
    ]
    assert posted_from_pairs(pairs) == {
        "given_name": "Ona",
        "needs": ["food", "shelter"],
        "kids": [{"kid_age": "2", "langs": ["lt", "ru"]}, {"kid_age": "4"}],
    }
