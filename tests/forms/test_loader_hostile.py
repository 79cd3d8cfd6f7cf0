"""Hostile or careless form YAML: always a placed problem, never an exception or a silent drop."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from intake.forms.cli import check_command
from intake.forms.loader import load_form
from intake.yaml_source import DefinitionProblems, Problem
from tests.forms.helpers import HEADER, form_text, page

LONG = "1 = 1 and " * 300 + "true"
TEXT_FIELD = "- {name: full_name, type: text, label: {en: Name, lt: Vardas}}"


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(DefinitionProblems) as refused:
        load_form(text, file="sample.yaml")
    return refused.value.problems


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("hint: {en: 'a\x00b', lt: x}", "U+0000"),
        ("hint: {en: 'bell \x07', lt: x}", "U+0007"),
        ("hint: {en: 'escape \x1b[2J', lt: x}", "U+001B"),
    ],
)
def test_control_characters_are_a_problem_at_their_place(written: str, message: str) -> None:
    text = form_text(page(f"- {{name: a, type: text, label: {{en: A, lt: A}}, {written}}}"))
    [problem] = problems_of(text)
    assert message in problem.message
    assert problem.line == line_of(text, "name: a,")
    assert text.splitlines()[problem.line - 1][problem.column - 1] in "\x00\x07\x1b"


def test_an_impossible_date_is_a_problem_at_its_place() -> None:
    text = form_text(page("- {name: a, type: date, label: {en: A, lt: A}, default: 2024-02-30}"))
    problems = problems_of(text)
    assert any(
        "2024-02-30" in p.message
        and "not a real date" in p.message
        and p.line == line_of(text, "2024-02-30")
        for p in problems
    )


@pytest.mark.parametrize("deep", ["[" * 5000 + "]" * 5000, "{a: " * 5000 + "1" + "}" * 5000])
def test_nesting_too_deep_is_a_problem_not_a_crash(deep: str) -> None:
    problems = problems_of(HEADER + f"description: {deep}\n")
    assert any("nested" in p.message for p in problems)


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/new:os.system [echo hi]",
        "!!python/object/apply:os.system {args: [echo]}",
        "!secret {en: A, lt: B}",
        "!secret [a]",
        "!secret plain",
        "!!binary aGVsbG8=",
        "!!set {a}",
    ],
)
def test_tags_are_refused_at_their_place(tagged: str) -> None:
    text = HEADER.replace("title: {en: Sample, lt: Pavyzdys}", f"title: {tagged}")
    text += "pages:\n" + page(TEXT_FIELD)
    problems = problems_of(text)
    tag = tagged.split(" ")[0]
    matching = [p for p in problems if f"tag '{tag}'" in p.message]
    assert matching, problems
    assert (matching[0].line, matching[0].column) == (4, len("title: ") + 1)


def test_a_tag_on_a_key_is_refused() -> None:
    text = HEADER + "!secret description: {en: A, lt: B}\npages:\n" + page(TEXT_FIELD)
    assert any("tag '!secret'" in p.message for p in problems_of(text))


def test_standard_tags_still_read() -> None:
    text = HEADER.replace("version: 1", "version: !!int '1'") + "pages:\n" + page(TEXT_FIELD)
    assert load_form(text, file="sample.yaml").version == 1


REPEAT = """\
- name: children
  type: repeat
  label: {{en: Children, lt: Vaikai}}
  {bounds}
  fields:
    - {{name: child_name, type: text, label: {{en: Name, lt: Vardas}}}}
"""


@pytest.mark.parametrize(
    "bounds", ["min: 10000000", "max: 10000000", "min: 101", "min: 5, max: 3", "max: 0"]
)
def test_repeat_rows_are_bounded(bounds: str) -> None:
    text = form_text(page(REPEAT.format(bounds=bounds.replace(", ", "\n  "))))
    problems = problems_of(text)
    assert any(p.line == line_of(text, bounds.split(",")[0]) for p in problems), problems


def test_sensible_repeat_rows_still_load() -> None:
    form = load_form(form_text(page(REPEAT.format(bounds="min: 1"))), file="sample.yaml")
    assert form.fields["children"].min_rows == 1


@pytest.mark.parametrize(
    ("what", "text"),
    [
        ("version", HEADER.replace("version: 1", "version: 100000000000000000000")),
        ("pages", HEADER + "pages:\n" + "".join(page(TEXT_FIELD, name=f"p{i}") for i in range(51))),
        (
            "fields",
            HEADER
            + "pages:\n"
            + page(
                "\n".join(
                    f"- {{name: f{i}, type: text, label: {{en: A, lt: A}}}}" for i in range(201)
                )
            ),
        ),
        (
            "choice_lists",
            HEADER
            + "choice_lists:\n  many:\n"
            + "".join(f"    - {{name: c{i}, label: {{en: C, lt: C}}}}\n" for i in range(501))
            + "pages:\n"
            + page(TEXT_FIELD),
        ),
        (
            "label",
            form_text(page(f"- {{name: a, type: text, label: {{en: '{'x' * 5001}', lt: A}}}}")),
        ),
        (
            "relevant",
            form_text(
                page(f"- {{name: a, type: text, label: {{en: A, lt: A}}, relevant: '{LONG}'}}")
            ),
        ),
    ],
)
def test_counts_and_lengths_are_bounded(what: str, text: str) -> None:
    problems = problems_of(text if "pages:" in text else text + "pages:\n" + page(TEXT_FIELD))
    assert any(what in p.message for p in problems), problems


def test_check_command_accepts_a_directory(tmp_path: Path) -> None:
    good = form_text(page(TEXT_FIELD))
    (tmp_path / "b.yaml").write_text(good)
    (tmp_path / "a.yml").write_text(good.replace("id: sample", "id: other"))
    (tmp_path / "c.yaml").write_text(good.replace("version: 1", "version: !secret 1"))
    (tmp_path / "notes.txt").write_text("not a definition")
    out = io.StringIO()
    assert check_command([str(tmp_path)], out=out) == 1
    lines = out.getvalue().splitlines()
    assert lines == [f"{tmp_path / 'c.yaml'}:2:10: the tag '!secret' is not allowed"]
    (tmp_path / "c.yaml").unlink()
    out = io.StringIO()
    assert check_command([str(tmp_path)], out=out) == 0
    assert "2 form definition(s) checked" in out.getvalue()


def test_check_command_lists_the_first_200_problems_then_a_count(tmp_path: Path) -> None:
    choices = "".join(f"    - {{name: c{i}, label: {{en: C, lt: C}}, x: 1}}\n" for i in range(250))
    text = HEADER + "choice_lists:\n  many:\n" + choices + "pages:\n" + page(TEXT_FIELD)
    (tmp_path / "many.yaml").write_text(text)
    out = io.StringIO()
    assert check_command([str(tmp_path / "many.yaml")], out=out) == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == 201
    assert lines[-1] == "and 50 more problems"
