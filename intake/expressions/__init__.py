"""The expression language of forms and workflows (relevant, constraint,
calculate, choice_filter, applies_when, condition).

This file is the contract both engines code against. Source text is parsed
once into a whitelisted AST, type-checked against the variables it may read,
and evaluated by walking the AST: never `eval`.

The language
    literals     12  3.5  'text'  "text"  true  false  null
                 (no escapes: a text cannot hold its own quote; use the other one)
    names        gender, first_contact.age_years (a dotted name is one name);
                 `.` is the answer of the field the expression belongs to, and is
                 only allowed when `variables` has a "." entry giving its type
    operators    or, and, not; = (or ==), !=, <, <=, >, >=; 'food' in needs;
                 + - * / and unary -; parentheses. Comparisons do not chain.
    dates        date + n and date - n (days, fractions floored), date - date
                 (days between); dates compare with < <= > >=
    functions    today()  age(date)  count(repeat_or_list)  coalesce(a, b, ...)
                 len(text)  if(cond, a, b)  selected(list, 'choice')
                 contains(text, part)  date('YYYY-MM-DD')
    limits       MAX_SOURCE_LENGTH characters, MAX_DEPTH levels of nesting

Null (an unanswered field, or the empty text)
    - arithmetic with null is null; dividing by zero is null; age(null) is null
    - `=` and `!=` treat null as a value: `x = null` is true when x is
      unanswered, `x = 'a'` is false then and `x != 'a'` true. Values of
      different kinds are never equal (true is not 1).
    - <, <=, >, >= involving null are false.
    - and, or, not, if() take null as false: `not null` is true.
      Comparisons and logic always give true or false, never null.
    - 'a' in null, selected(null, 'a'), contains(null, 'a') are false;
      count(null) and len(null) are 0; coalesce() skips nulls.
    - date('not a date') is null.

How the engines use a result (see intake.forms.answers)
    relevant and workflow conditions: only true counts; null is false.
    constraint: checked only when the field has an answer; a null result
    passes (the expression could not decide, so it does not block a person).
    required expression: only true makes the field required.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intake.expressions.checker import check, describe, fits
from intake.expressions.core import ExpressionError, ValueType
from intake.expressions.evaluator import evaluate as _evaluate
from intake.expressions.nodes import node_to_json, references_of
from intake.expressions.parser import FUNCTIONS, MAX_DEPTH, MAX_SOURCE_LENGTH, parse
from intake.i18n import gettext as _

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_SOURCE_LENGTH",
    "Expression",
    "ExpressionError",
    "ValueType",
    "compile_expression",
]


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
        return _evaluate(self.ast, answers, today=today, self_value=self_value)

    def is_true(
        self, answers: Mapping[str, Any], *, today: dt.date, self_value: Any = None
    ) -> bool:
        """Whether the expression is true here; null and false both say no."""
        return self.evaluate(answers, today=today, self_value=self_value) is True

    def to_json(self) -> Any:
        """The AST as JSON, for the browser's evaluator."""
        return node_to_json(self.ast)


def compile_expression(
    source: str, *, variables: Mapping[str, ValueType], expect: ValueType | None = None
) -> Expression:
    """Parse and type-check `source`; raise ExpressionError naming the first problem."""
    checked = check(parse(source), variables)
    if expect is not None and expect != ValueType.ANY and not fits(checked.vtype, expect):
        raise ExpressionError(
            _(
                "this expression must give %(wanted)s, but it gives %(actual)s",
                wanted=describe(expect),
                actual=describe(checked.vtype),
            ),
            column=1,
        )
    return Expression(
        source=source,
        ast=checked,
        result_type=checked.vtype,
        references=references_of(checked),
    )
