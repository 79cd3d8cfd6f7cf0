"""Compute an expression's value by walking its checked AST.

The null rules are described in intake/expressions/__init__.py; the browser's
evaluator (intake/static/js/expr.js) follows the same rules, and the shared
vectors in tests/expressions/vectors.json hold both to them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from intake.expressions.core import ValueType
from intake.expressions.nodes import Binary, Call, Current, Literal, Node, Reference, Unary

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_iso_date(text: str) -> dt.date | None:
    """A YYYY-MM-DD text as a date, or None (the only date form expressions accept)."""
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    """The run-time category of a value; Python's bool-is-an-int must not leak."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if _is_number(value):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, str):
        return "text"
    return "list"


def _normalise(value: Any, vtype: ValueType) -> Any:
    """A stored answer as the evaluator wants it: '' is unanswered, dates are dates."""
    if value == "" or value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str) and vtype == ValueType.DATE:
        return parse_iso_date(value)
    if isinstance(value, tuple):
        return list(value)
    return value


class Evaluator:
    """One evaluation: the answers, today's date and the field's own value."""

    def __init__(self, answers: Mapping[str, Any], today: dt.date, self_value: Any) -> None:
        self.answers = answers
        self.today = today
        self.self_value = self_value

    def value(self, node: Node) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Reference):
            return _normalise(self.answers.get(node.name), node.vtype)
        if isinstance(node, Current):
            return _normalise(self.self_value, node.vtype)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        return self.call(node)

    def unary(self, node: Unary) -> Any:
        operand = self.value(node.operand)
        if node.op == "not":
            return operand is not True
        return -operand if _is_number(operand) else None

    def binary(self, node: Binary) -> Any:
        op = node.op
        if op == "and":
            return self.value(node.left) is True and self.value(node.right) is True
        if op == "or":
            return self.value(node.left) is True or self.value(node.right) is True
        left, right = self.value(node.left), self.value(node.right)
        if op == "=":
            return _equal(left, right)
        if op == "!=":
            return not _equal(left, right)
        if op == "in":
            return _selected(right, left)
        if op in _ORDER:
            return _ordered(op, left, right)
        return _arithmetic(op, left, right)

    def call(self, node: Call) -> Any:
        if node.function == "if":
            condition = self.value(node.args[0])
            return self.value(node.args[1] if condition is True else node.args[2])
        if node.function == "coalesce":
            for arg in node.args:
                found = self.value(arg)
                if found is not None:
                    return found
            return None
        args = [self.value(arg) for arg in node.args]
        return _FUNCTIONS[node.function](self, args)


def _equal(left: Any, right: Any) -> bool:
    if _kind(left) != _kind(right):
        return False
    return bool(left == right)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _ordered(op: str, left: Any, right: Any) -> bool:
    kind = _kind(left)
    if kind not in ("number", "date") or kind != _kind(right):
        return False
    return _ORDER[op](left, right)


def _selected(choices: Any, choice: Any) -> bool:
    return isinstance(choices, list) and isinstance(choice, str) and choice in choices


def _arithmetic(op: str, left: Any, right: Any) -> Any:
    kinds = (_kind(left), _kind(right))
    if kinds == ("number", "number"):
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        return left / right if right != 0 else None
    try:
        if kinds == ("date", "number") and op in ("+", "-"):
            days = dt.timedelta(days=whole_days(right))
            return left + days if op == "+" else left - days
        if kinds == ("number", "date") and op == "+":
            return right + dt.timedelta(days=whole_days(left))
        if kinds == ("date", "date") and op == "-":
            return (left - right).days
    except OverflowError:
        return None
    return None


def whole_days(number: float) -> int:
    """Whole days of a number of days: fractions are floored, as the browser does."""
    whole = int(number // 1)
    if abs(whole) > 3_700_000:  # beyond any representable date either side
        raise OverflowError
    return whole


def _age(evaluator: Evaluator, args: list[Any]) -> Any:
    born = args[0]
    if not isinstance(born, dt.date):
        return None
    today = evaluator.today
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _count(evaluator: Evaluator, args: list[Any]) -> int:
    return len(args[0]) if isinstance(args[0], list) else 0


def _len(evaluator: Evaluator, args: list[Any]) -> int:
    return len(args[0]) if isinstance(args[0], str) else 0


def _contains(evaluator: Evaluator, args: list[Any]) -> bool:
    text, part = args
    return isinstance(text, str) and isinstance(part, str) and part in text


def _date(evaluator: Evaluator, args: list[Any]) -> Any:
    value = args[0]
    if isinstance(value, dt.date):
        return value
    return parse_iso_date(value) if isinstance(value, str) else None


_FUNCTIONS: dict[str, Callable[[Evaluator, list[Any]], Any]] = {
    "today": lambda evaluator, args: evaluator.today,
    "age": _age,
    "count": _count,
    "len": _len,
    "selected": lambda evaluator, args: _selected(args[0], args[1]),
    "contains": _contains,
    "date": _date,
}


def evaluate(node: Node, answers: Mapping[str, Any], *, today: dt.date, self_value: Any) -> Any:
    """The value of a checked AST for these answers."""
    return Evaluator(answers, today, self_value).value(node)
