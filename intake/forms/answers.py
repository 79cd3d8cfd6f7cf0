"""Turn what a phone posts into typed answers, and typed answers into JSON.

`coerce_value` accepts both what an HTML form posts (text, or a list of texts
for a multi-select) and answers already typed or read back from JSON (numbers,
booleans, ISO dates), so a stored draft is re-checked through the same door.
Every message here is read by the person filling the form, so it is translated.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from intake.expressions.evaluator import parse_iso_date
from intake.forms.definition import FieldDef, FormDefinition
from intake.forms.schema import FieldType
from intake.i18n import gettext as _

TEXT_LIMITS: Mapping[FieldType, int] = {
    FieldType.TEXT: 2_000,
    FieldType.TEXTAREA: 10_000,
    FieldType.PHONE: 40,
    FieldType.EMAIL: 254,
}
LARGEST_INTEGER = 10**12  # far beyond any count or amount a form asks for
MAX_ROWS = 100  # no repeat group may hold more rows, whatever its max says

_INTEGER = re.compile(r"[+-]?\d{1,13}")
_DECIMAL = re.compile(r"[+-]?(\d{1,13}(\.\d{0,9})?|\.\d{1,9})")
_PHONE = re.compile(r"\+?[0-9 ()./-]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
# Control characters other than tab and newline have no place in an answer.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_YES = frozenset({"yes", "true", "1", "on"})
_NO = frozenset({"no", "false", "0", "off"})

Coerced = tuple[Any, str | None]


def is_blank(posted: Any) -> bool:
    """Whether a posted value means 'no answer'."""
    if posted is None:
        return True
    if isinstance(posted, str):
        return not posted.strip()
    if isinstance(posted, list | tuple):
        return all(is_blank(item) for item in posted)
    return False


def coerce_value(field: FieldDef, posted: Any) -> Coerced:
    """The typed value of one answer and None, or None and a message for the person."""
    if is_blank(posted):
        return None, None
    if field.type == FieldType.SELECT_MULTIPLE:
        return _select_multiple(field, posted)
    if isinstance(posted, list | tuple):
        items = [item for item in posted if not is_blank(item)]
        if len(items) != 1:
            return None, _("Give only one answer")
        posted = items[0]
    coerce = _COERCERS.get(field.type)
    if coerce is None:
        return None, _("This question does not take an answer")
    return coerce(field, posted)


def _text(field: FieldDef, posted: Any) -> Coerced:
    if not isinstance(posted, str):
        return None, _("Enter text")
    text = posted.replace("\r\n", "\n").replace("\r", "\n").strip()
    if field.type != FieldType.TEXTAREA:
        text = " ".join(text.split())
    if _CONTROL.search(text):
        return None, _("This answer contains characters that are not allowed")
    limit = TEXT_LIMITS.get(field.type, TEXT_LIMITS[FieldType.TEXT])
    if len(text) > limit:
        return None, _("This answer is too long (at most %(limit)s characters)", limit=limit)
    return text, None


def _integer(field: FieldDef, posted: Any) -> Coerced:
    if isinstance(posted, bool):
        return None, _("Enter a whole number")
    if isinstance(posted, int):
        number = posted
    elif isinstance(posted, float) and posted.is_integer():
        number = int(posted)
    elif isinstance(posted, str) and _INTEGER.fullmatch(posted.strip()):
        number = int(posted.strip())
    else:
        return None, _("Enter a whole number")
    if abs(number) > LARGEST_INTEGER:
        return None, _("This number is too large")
    return number, None


def _decimal(field: FieldDef, posted: Any) -> Coerced:
    if isinstance(posted, bool):
        return None, _("Enter a number")
    if isinstance(posted, int | float):
        number = float(posted)
    elif isinstance(posted, str):
        text = posted.strip()
        # Lithuanian and Russian write 2,5 for 2.5; phones often offer that keyboard.
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        if not _DECIMAL.fullmatch(text):
            return None, _("Enter a number")
        number = float(text)
    else:
        return None, _("Enter a number")
    if not math.isfinite(number) or abs(number) > LARGEST_INTEGER:
        return None, _("This number is too large")
    return number, None


def _date(field: FieldDef, posted: Any) -> Coerced:
    if isinstance(posted, dt.datetime):
        return posted.date(), None
    if isinstance(posted, dt.date):
        return posted, None
    parsed = parse_iso_date(posted.strip()) if isinstance(posted, str) else None
    if parsed is None:
        return None, _("Enter a date as YYYY-MM-DD")
    return parsed, None


def _boolean(field: FieldDef, posted: Any) -> Coerced:
    if isinstance(posted, bool):
        return posted, None
    word = posted.strip().lower() if isinstance(posted, str) else None
    if word in _YES:
        return True, None
    if word in _NO:
        return False, None
    return None, _("Answer yes or no")


def _select_one(field: FieldDef, posted: Any) -> Coerced:
    if not isinstance(posted, str) or field.choice(posted.strip()) is None:
        return None, _("Choose one of the options offered")
    return posted.strip(), None


def _select_multiple(field: FieldDef, posted: Any) -> Coerced:
    items = [posted] if isinstance(posted, str) else posted
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        return None, _("Choose from the options offered")
    wanted = {item.strip() for item in items if item.strip()}
    if any(field.choice(name) is None for name in wanted):
        return None, _("Choose from the options offered")
    # The definition's order, so the same choices always store the same list.
    return [choice.name for choice in field.choices if choice.name in wanted], None


def _phone(field: FieldDef, posted: Any) -> Coerced:
    text, error = _text(field, posted)
    if error:
        return None, error
    digits = sum(char.isdigit() for char in text)
    if not _PHONE.fullmatch(text) or not 5 <= digits <= 15:
        return None, _("Enter a phone number: digits, spaces, +, - and brackets only")
    return text, None


def _email(field: FieldDef, posted: Any) -> Coerced:
    text, error = _text(field, posted)
    if error:
        return None, error
    if not _EMAIL.fullmatch(text):
        return None, _("Enter an email address such as name@example.org")
    return text, None


_COERCERS = {
    FieldType.TEXT: _text,
    FieldType.TEXTAREA: _text,
    FieldType.INTEGER: _integer,
    FieldType.DECIMAL: _decimal,
    FieldType.DATE: _date,
    FieldType.YES_NO: _boolean,
    FieldType.ACKNOWLEDGE: _boolean,
    FieldType.SELECT_ONE: _select_one,
    FieldType.PHONE: _phone,
    FieldType.EMAIL: _email,
}


def answers_to_json(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Typed answers as JSON-safe data: dates become YYYY-MM-DD, repeat rows stay lists."""
    return {name: _json_value(value) for name, value in answers.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return answers_to_json(value)
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    return value


def posted_from_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Group an HTML form's (name, value) pairs: a repeated name becomes a list, and
    `group.<row>.<field>` becomes rows of the repeat `group` (rows in index order).

    Form plumbing (the CSRF token, buttons) must be removed before validating.
    """
    plain: dict[str, list[str]] = {}
    rows: dict[str, dict[int, dict[str, list[str]]]] = {}
    for key, value in pairs:
        group, _dot, rest = key.partition(".")
        index, _dot2, name = rest.partition(".")
        if name and index.isdigit() and int(index) < MAX_ROWS * 10:
            cells = rows.setdefault(group, {}).setdefault(int(index), {})
            cells.setdefault(name, []).append(value)
        else:
            plain.setdefault(key, []).append(value)
    posted: dict[str, Any] = {key: _single(values) for key, values in plain.items()}
    for group, by_index in rows.items():
        posted[group] = [
            {name: _single(values) for name, values in by_index[i].items()}
            for i in sorted(by_index)
        ]
    return posted


def _single(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def without_blank_rows(form: FormDefinition, posted: Mapping[str, Any]) -> dict[str, Any]:
    """Posted answers where a repeat row left entirely blank is no row at all."""
    cleaned = dict(posted)
    for name, value in posted.items():
        field = form.fields.get(name)
        if field is not None and field.type == FieldType.REPEAT and isinstance(value, list):
            cleaned[name] = [
                row
                for row in value
                if not (isinstance(row, Mapping) and is_blank(list(row.values())))
            ]
    return cleaned
