"""The expression language of forms and workflows (relevant, constraint,
calculate, choice_filter, applies_when, condition).

This file is the contract both engines code against. Source text is parsed
once into a whitelisted AST, type-checked against the variables it may read,
and evaluated by walking the AST: never `eval`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ValueType(StrEnum):
    """What a variable or an expression yields."""

    TEXT = "text"
    NUMBER = "number"  # integer and decimal fields
    BOOLEAN = "boolean"  # yes_no, acknowledge
    DATE = "date"
    LIST = "list"  # select_multiple: a list of choice names
    REPEAT = "repeat"  # a repeat group: only count() reads it
    ANY = "any"


class ExpressionError(Exception):
    """The source text is not a valid expression; `column` is 1-based within it."""

    def __init__(self, message: str, *, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Expression:
    """A parsed, type-checked expression, ready to evaluate many times."""

    source: str
    ast: Any
    result_type: ValueType
    references: frozenset[str]

    def evaluate(
        self, answers: Mapping[str, Any], *, today: dt.date, self_value: Any = None
    ) -> Any:
        """The value of the expression for these answers (`.` is `self_value`)."""
        raise NotImplementedError

    def to_json(self) -> Any:
        """The AST as JSON, for the browser's evaluator."""
        raise NotImplementedError


def compile_expression(
    source: str, *, variables: Mapping[str, ValueType], expect: ValueType | None = None
) -> Expression:
    """Parse and type-check `source`; raise ExpressionError naming the first problem."""
    raise NotImplementedError
