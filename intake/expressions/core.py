"""The two names every part of the expression language shares."""

from __future__ import annotations

from enum import StrEnum


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

    def __str__(self) -> str:
        return f"column {self.column}: {self.message}"
