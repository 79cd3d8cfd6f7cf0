"""What an administrator sees for a broken form definition: every problem, placed."""

from __future__ import annotations

import pytest

from intake.expressions import ValueType
from intake.forms import FieldType, load_form
from intake.yaml_source import DefinitionProblems
from tests.forms.helpers import form_text, make_form, page

TEXT_FIELD = """\
- name: {name}
  type: text
  label: {{en: Name, lt: Vardas}}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(DefinitionProblems) as refused:
        load_form(text, file="forms/sample.yaml")
    return [str(problem) for problem in refused.value.problems]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `needle`."""
    found = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return found[occurrence - 1]


def test_a_sound_form_compiles_with_types_and_sensitive_fields() -> None:
    form = make_form(
        page(
            """
            - name: given_name
              type: text
              sensitive: true
              label: {en: Name, lt: Vardas}
            - name: born
              type: date
              label: {en: Born, lt: Gimė}
            - name: years
              type: calculate
              calculation: age(born)
            - name: kids
              type: repeat
              label: {en: Kids, lt: Vaikai}
              fields:
                - name: kid_age
                  type: integer
                  label: {en: Age, lt: Amžius}
            """
        )
    )
    assert form.variable_types() == {
        "given_name": ValueType.TEXT,
        "born": ValueType.DATE,
        "years": ValueType.NUMBER,
        "kids": ValueType.REPEAT,
    }
    assert form.sensitive_fields == frozenset({"given_name"})
    assert form.fields["kid_age"].repeat == "kids"
    assert form.fields["years"].type == FieldType.CALCULATE
    with pytest.raises(TypeError):
        form.fields["x"] = form.fields["born"]  # type: ignore[index]


def test_malformed_yaml_is_placed() -> None:
    text = form_text(page(TEXT_FIELD.format(name="a"))) + "  - name: [unclosed\n"
    [message] = problems_of(text)
    assert message.startswith("forms/sample.yaml:")
    assert "YAML does not parse" in message


def test_unknown_type_and_unknown_key_are_placed_at_their_lines() -> None:
    text = form_text(
        page(
            """
            - name: a
              type: colour
              label: {en: A, lt: A}
            - name: b
              type: text
              colour: red
              label: {en: B, lt: B}
            """
        )
    )
    messages = problems_of(text)
    type_line, key_line = line_of(text, "type: colour"), line_of(text, "colour: red")
    assert any(m.startswith(f"forms/sample.yaml:{type_line}:15:") and "type" in m for m in messages)
    assert any(
        m.startswith(f"forms/sample.yaml:{key_line}:") and "colour" in m and "not permitted" in m
        for m in messages
    )


def test_every_semantic_problem_is_listed_at_once() -> None:
    text = form_text(
        page(
            """
            - name: given_name
              type: text
              label: {en: Name}
            - name: pick
              type: select_one
              choice_list: missing_list
              label: {en: Pick, lt: Rinktis}
            - name: many
              type: select_multiple
              label: {en: Many, lt: Daug}
              choices:
                - {name: a, label: {en: A, lt: A}}
                - {name: a, label: {en: A again, lt: A vėl}}
            - name: older
              type: integer
              label: {en: Older, lt: Vyresnis}
              relevant: "given_nam = 'x'"
            - name: sum
              type: calculate
              calculation: "given_name + 1"
            """
        ),
        page(TEXT_FIELD.format(name="given_name"), name="second"),
    )
    messages = problems_of(text)
    at = {
        "translation": (line_of(text, "label: {en: Name}"), "has no 'lt' translation"),
        "choice_list": (line_of(text, "choice_list: missing_list"), "no choice list called"),
        "duplicate choice": (line_of(text, "{name: a, label: {en: A again"), "used twice"),
        "unknown ref": (line_of(text, 'relevant: "given_nam'), "unknown field 'given_nam'"),
        "type error": (line_of(text, 'calculation: "given_name'), "cannot be used with text"),
        "duplicate field": (line_of(text, "- name: given_name", 2), "already used on line"),
    }
    for kind, (line, words) in at.items():
        assert any(f":{line}:" in m and words in m for m in messages), (kind, messages)
    assert len(messages) == len(at)


def test_expression_problems_point_at_the_column_inside_the_expression() -> None:
    text = form_text(
        page(
            """
            - name: n
              type: integer
              label: {en: N, lt: N}
            - name: m
              type: integer
              label: {en: M, lt: M}
              relevant: n > 'five'
            - name: o
              type: integer
              label: {en: O, lt: O}
              relevant: "n = nope"
            """
        )
    )
    messages = problems_of(text)
    first = line_of(text, "relevant: n >")
    second = line_of(text, 'relevant: "n = nope"')
    # Values start at column 19; plain: '>' is at 21; quoted: 'nope' is at 24, past the quote.
    assert f"forms/sample.yaml:{first}:21: relevant: the comparison '>' mixes" in messages[0]
    assert messages[1] == (f"forms/sample.yaml:{second}:24: relevant: unknown field 'nope'")


def test_duplicate_names_inside_and_outside_repeats_are_refused() -> None:
    text = form_text(
        page(
            """
            - name: age
              type: integer
              label: {en: Age, lt: Amžius}
            - name: kids
              type: repeat
              label: {en: Kids, lt: Vaikai}
              fields:
                - name: age
                  type: integer
                  label: {en: Age, lt: Amžius}
            """
        )
    )
    [message] = problems_of(text)
    assert message.startswith(f"forms/sample.yaml:{line_of(text, '- name: age', 2)}:")
    assert f"already used on line {line_of(text, '- name: age')}" in message


def test_missing_translations_name_the_language_and_the_place() -> None:
    text = form_text(
        page(
            """
            - name: a
              type: select_one
              label: {en: A, lt: A}
              hint: {en: Hint, lt: ""}
              choices:
                - {name: x, label: {en: X}}
            """
        )
    )
    messages = problems_of(text)
    assert any("pages.fields.hint has no 'lt' translation" in m for m in messages)
    assert any("pages.fields.choices.label has no 'lt' translation" in m for m in messages)
    extra = form_text(page(TEXT_FIELD.format(name="a").replace("lt: Vardas", "lt: V, de: N")))
    assert any("'de' is not one of the form's languages" in m for m in problems_of(extra))


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ("- {name: a, type: text}", "needs a label"),
        ("- {name: a, type: calculate}", "needs a calculation"),
        ("- {name: a, type: select_one, label: {en: A, lt: A}}", "needs choices or a choice_list"),
        ("- {name: a, type: note, required: true, label: {en: A, lt: A}}", "'required' does not"),
        ("- {name: a, type: text, calculation: '1', label: {en: A, lt: A}}", "'calculation' does"),
        ("- {name: a, type: text, min: 1, label: {en: A, lt: A}}", "'min' does not apply"),
        ("- {name: a, type: repeat, label: {en: A, lt: A}}", "needs fields"),
        ("- {name: choice, type: text, label: {en: A, lt: A}}", "reserved"),
        ("- {name: a, type: integer, default: 'x', label: {en: A, lt: A}}", "default does not"),
        (
            "- {name: a, type: text, constraint_message: {en: A, lt: A}, label: {en: A, lt: A}}",
            "without constraint",
        ),
        (
            "- {name: a, type: repeat, min: 3, max: 2, label: {en: A, lt: A},"
            " fields: [{name: b, type: text, label: {en: B, lt: B}}]}",
            "min is larger than max",
        ),
        (
            "- {name: a, type: repeat, label: {en: A, lt: A}, fields: [{name: b, type: repeat,"
            " label: {en: B, lt: B}, fields: [{name: c, type: text, label: {en: C, lt: C}}]}]}",
            "cannot hold another repeat",
        ),
        ("- {name: a, type: integer, relevant: 'a > 1', label: {en: A, lt: A}}", "itself"),
        ("- {name: a, type: integer, constraint: '. + 1', label: {en: A, lt: A}}", "true/false"),
        (
            "- {name: a, type: calculate, calculation: 'b + 1'}\n"
            "- {name: b, type: calculate, calculation: 'a + 1'}",
            "depends on itself",
        ),
    ],
)
def test_field_rules(fields: str, words: str) -> None:
    text = form_text(page(fields))
    messages = problems_of(text)
    assert any(words in m for m in messages), messages
    assert all(m.startswith("forms/sample.yaml:") for m in messages)


def test_calculations_may_use_calculations_written_after_them() -> None:
    form = make_form(
        page(
            """
            - {name: total, type: calculate, calculation: 'half * 2'}
            - {name: half, type: calculate, calculation: 'base / 2'}
            - {name: base, type: integer, label: {en: B, lt: B}}
            """
        )
    )
    assert form.calculation_order == ("half", "total")
    assert form.variable_types()["total"] == ValueType.NUMBER


def test_repeat_members_are_visible_inside_their_row_only() -> None:
    inside = """
        - name: kids
          type: repeat
          label: {en: Kids, lt: Vaikai}
          fields:
            - {name: kid_age, type: integer, label: {en: Age, lt: Amžius}}
            - {name: school, type: text, relevant: 'kid_age >= 7', label: {en: S, lt: M}}
        """
    make_form(page(inside))
    outside = inside + "- {name: x, type: text, relevant: 'kid_age > 1', label: {en: X, lt: X}}\n"
    assert any("unknown field 'kid_age'" in m for m in problems_of(form_text(page(outside))))


def test_a_shared_choice_list_problem_is_reported_once() -> None:
    extra = (
        "choice_lists:\n  yn:\n    - {name: a, label: {en: A, lt: A}}\n"
        "    - {name: a, label: {en: B, lt: B}}\n"
    )
    fields = """
        - {name: p, type: select_one, choice_list: yn, label: {en: P, lt: P}}
        - {name: q, type: select_one, choice_list: yn, label: {en: Q, lt: Q}}
        """
    messages = problems_of(form_text(page(fields), extra=extra))
    assert len([m for m in messages if "used twice" in m]) == 1


def test_the_top_level_must_be_a_form() -> None:
    [message] = problems_of("- just\n- a list\n")
    assert message.startswith("forms/sample.yaml:1:1:")
