"""Parse errors, type errors and limits: what an administrator sees when an expression is wrong."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.expressions import (
    MAX_DEPTH,
    MAX_SOURCE_LENGTH,
    ExpressionError,
    ValueType,
    compile_expression,
)

T = ValueType
VARIABLES = {
    "age_years": T.NUMBER,
    "name": T.TEXT,
    "birth_date": T.DATE,
    "needs": T.LIST,
    "children": T.REPEAT,
    "consent": T.BOOLEAN,
    "first_contact.gender": T.TEXT,
}
TODAY = dt.date(2024, 6, 15)


def error_of(source: str, variables: dict[str, ValueType] | None = None) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source, variables=VARIABLES if variables is None else variables)
    return caught.value


@pytest.mark.parametrize(
    ("source", "column", "words"),
    [
        ("age_years +", 12, "expected a value"),
        ("(age_years > 1", 15, "expected ')'"),
        ("age_years > 1)", 14, "unexpected ')'"),
        ("name = 'open", 8, "not closed"),
        ("age_years @ 2", 11, "'@' is not allowed"),
        ("age_years > 1 age_years", 15, "after a complete expression"),
        ("1 < 2 < 3", 7, "cannot be chained"),
        ("count(needs,", 13, "expected a value"),
        ("count(needs needs)", 13, "expected ',' or ')'"),
        ("today(1)", 1, "takes 0 argument"),
        ("if(consent, 1)", 1, "takes 3 argument"),
        ("coalesce()", 1, "at least 1"),
        ("name.", 5, "must not end with '.'"),
        (".name", 1, "cannot start with '.'"),
        ("12abc", 1, "must not run into letters"),
        ("1234567890123456", 1, "too many digits"),
        ("", 1, "empty"),
        ("   ", 1, "empty"),
        ("age_years > ", 13, "expression ends"),
        ("and", 1, "expected a value"),
        ("name = 'a' && consent", 12, "'&' is not allowed"),
        ("nąme = 'a'", 2, "'ą' is not allowed"),
    ],
)
def test_parse_errors_name_the_column(source: str, column: int, words: str) -> None:
    error = error_of(source)
    assert words in error.message
    assert error.column == column


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os')",
        "eval('1')",
        "exec('x=1')",
        "open('/etc/passwd')",
        "name.__class__",
        "().__class__.__bases__[0]",
        "[c for c in ()]",
        "lambda: 1",
        "age_years ** 2",
        "name[0]",
        "getattr(name, 'upper')",
        "f'{name}'",
        "age_years if consent else 0",
    ],
)
def test_python_syntax_is_not_part_of_the_language(source: str) -> None:
    error_of(source)


def test_unknown_functions_are_refused_while_parsing_before_any_type_is_looked_at() -> None:
    error = error_of("__import__('os')", variables={})
    assert "unknown function '__import__'" in error.message
    assert error.column == 1


def test_unknown_reference_names_the_column_and_suggests_a_close_name() -> None:
    error = error_of("consent and age_yers > 18")
    assert error.message == "unknown field 'age_yers' (did you mean 'age_years'?)"
    assert error.column == 13


def test_dotted_names_are_one_name() -> None:
    expression = compile_expression(
        "first_contact.gender = 'female'", variables={"first_contact.gender": T.TEXT}
    )
    assert expression.references == frozenset({"first_contact.gender"})
    assert expression.is_true({"first_contact.gender": "female"}, today=TODAY)
    assert "unknown field 'first_contact.age'" in error_of("first_contact.age > 1").message


def test_dot_means_the_field_itself_only_where_the_caller_allows_it() -> None:
    assert "has no meaning here" in error_of(". > 1").message
    expression = compile_expression(". > 1", variables={".": T.NUMBER})
    assert expression.references == frozenset()
    assert expression.evaluate({}, today=TODAY, self_value=2) is True


@pytest.mark.parametrize(
    ("source", "column", "words"),
    [
        ("'a' + 1", 5, "'+' cannot be used with text"),
        ("birth_date < 5", 12, "mixes a date and a number"),
        ("name < 'b'", 6, "compares numbers or dates, not text"),
        ("needs = 'food'", 7, "cannot be compared"),
        ("count(name)", 7, "count() counts a repeat group or a list"),
        ("'food' in name", 11, "after 'in' must be a list of choices"),
        ("1 in needs", 1, "before 'in' must be text"),
        ("age_years and consent", 1, "each side of 'and' must be true/false"),
        ("not name", 5, "after 'not' must be true/false"),
        ("-name", 2, "after '-' must be a number"),
        ("if(name, 1, 2)", 4, "condition of if() must be true/false"),
        ("if(consent, 1, 'x')", 1, "if() mixes"),
        ("coalesce(birth_date, 3)", 1, "coalesce() mixes"),
        ("age(name)", 5, "argument 1 of age() must be a date"),
        ("len(age_years)", 5, "argument 1 of len() must be text"),
        ("selected('food', needs)", 10, "argument 1 of selected() must be a list"),
        ("contains(name, 3)", 16, "argument 2 of contains() must be text"),
        ("birth_date + birth_date", 12, "two dates cannot be added"),
        ("5 - birth_date", 3, "cannot be taken from a number"),
        ("birth_date * 2", 12, "'*' cannot be used with a date"),
        ("children + 1", 10, "cannot be used with a repeat group"),
        ("date('15/06/2024')", 6, "is not a date written as YYYY-MM-DD"),
        ("date('2024-02-30')", 6, "is not a date"),
        ("consent = 1", 9, "mixes a number and true/false"),
    ],
)
def test_type_errors_name_the_column(source: str, column: int, words: str) -> None:
    error = error_of(source)
    assert words in error.message
    assert error.column == column


def test_expect_refuses_an_expression_of_another_type() -> None:
    with pytest.raises(ExpressionError, match="must give true/false, but it gives a number"):
        compile_expression("age_years + 1", variables=VARIABLES, expect=T.BOOLEAN)
    assert compile_expression("age_years > 1", variables=VARIABLES, expect=T.BOOLEAN)
    # null fits any expectation; it is decided at run time.
    assert compile_expression("null", variables=VARIABLES, expect=T.BOOLEAN).result_type == T.ANY


def test_result_types() -> None:
    def result(source: str) -> ValueType:
        return compile_expression(source, variables=VARIABLES).result_type

    assert result("birth_date + 1") == T.DATE
    assert result("today() - birth_date") == T.NUMBER
    assert result("coalesce(age(birth_date), age_years)") == T.NUMBER
    assert result("if(consent, name, null)") == T.TEXT
    assert result("count(children) > 0 or 'food' in needs") == T.BOOLEAN


def test_source_length_is_limited() -> None:
    longest = "1" + " " * (MAX_SOURCE_LENGTH - 1)
    assert compile_expression(longest, variables={}).evaluate({}, today=TODAY) == 1
    error = error_of(longest + " ")
    assert "longer than" in error.message


def test_nesting_depth_is_limited_for_parentheses_operators_and_calls() -> None:
    deep_enough = "(" * (MAX_DEPTH - 1) + "1" + ")" * (MAX_DEPTH - 1)
    assert compile_expression(deep_enough, variables={}).evaluate({}, today=TODAY) == 1
    for source in (
        "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1),
        "not " * (MAX_DEPTH + 1) + "true",
        "-" * (MAX_DEPTH + 1) + "1",
        "+".join(["1"] * (MAX_DEPTH + 2)),
        "coalesce(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1),
    ):
        assert "nested more than" in error_of(source).message


def test_a_long_flat_expression_within_the_length_limit_does_not_overflow_the_stack() -> None:
    # 150 terms joined by 'or' would be a tree 150 deep: refused, not a RecursionError.
    source = " or ".join(["b"] * 150)
    assert len(source) <= MAX_SOURCE_LENGTH
    assert "nested more than" in error_of(source, variables={"b": T.BOOLEAN}).message


def test_to_json_is_plain_data_with_types_for_the_browser() -> None:
    expression = compile_expression("birth_date + 1 > today()", variables=VARIABLES)
    assert expression.to_json() == {
        "kind": "binary",
        "op": ">",
        "type": "boolean",
        "left": {
            "kind": "binary",
            "op": "+",
            "type": "date",
            "left": {"kind": "ref", "name": "birth_date", "type": "date"},
            "right": {"kind": "literal", "value": 1, "type": "number"},
        },
        "right": {"kind": "call", "fn": "today", "args": [], "type": "date"},
    }


def test_equality_operator_spellings_mean_the_same() -> None:
    one = compile_expression("name == 'a'", variables=VARIABLES)
    other = compile_expression("name = 'a'", variables=VARIABLES)
    assert one.to_json() == other.to_json()


def test_evaluation_accepts_stored_iso_dates_and_python_dates_alike() -> None:
    expression = compile_expression("age(birth_date)", variables=VARIABLES)
    assert expression.evaluate({"birth_date": "2000-06-16"}, today=TODAY) == 23
    assert expression.evaluate({"birth_date": dt.date(2000, 6, 15)}, today=TODAY) == 24


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab.()'\"=!<>+-*/, 01notrucelsfiyx_")), max_size=60))
def test_any_text_either_compiles_or_is_an_expression_error(source: str) -> None:
    try:
        expression = compile_expression(
            source, variables={"a": T.NUMBER, "b": T.BOOLEAN, ".": T.TEXT}
        )
    except ExpressionError as error:
        assert 1 <= error.column <= len(source) + 1
        return
    expression.evaluate({"a": 2, "b": True}, today=TODAY, self_value="x")
