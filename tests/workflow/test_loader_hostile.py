"""Hostile or careless track YAML: always a placed problem, never an exception or a silent drop."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from intake.workflow.cli import check_command
from intake.workflow.loader import parse_track
from intake.yaml_source import DefinitionProblems, Problem
from tests.workflow.helpers import FORMS, WORKFLOWS

STANDARD = (WORKFLOWS / "standard.yaml").read_text(encoding="utf-8")


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(DefinitionProblems) as refused:
        parse_track(text, file="standard.yaml")
    return refused.value.problems


def replaced(old: str, new: str) -> str:
    assert STANDARD.count(old) == 1, old
    return STANDARD.replace(old, new)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("version: 1\n", "version: 1\x00\n", "U+0000"),
        ("priority: 0\n", "priority: \x08\n", "U+0008"),
        ("version: 1\n", "version: 2024-02-30\n", "not a real date"),
        ("version: 1\n", "version: !!python/object/new:os.system [id]\n", "tag"),
        ("version: 1\n", "version: !secret {a: 1}\n", "tag '!secret'"),
        ("version: 1\n", "version: !secret [1]\n", "tag '!secret'"),
        ("version: 1\n", "version: 100000000000000000000\n", "version"),
        ("priority: 0\n", "priority: 100000000000000000000\n", "priority"),
    ],
)
def test_hostile_values_are_problems_on_their_line(old: str, new: str, message: str) -> None:
    text = replaced(old, new)
    problems = problems_of(text)
    line = line_of(text, new.split(":")[0] + ":")
    assert any(message in p.message and p.line == line for p in problems), problems


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    problems = problems_of(replaced("priority: 0\n", "priority: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert any("nested" in p.message for p in problems)


def test_too_many_states_are_refused() -> None:
    states = "".join(f"  s{n}: {{label: {{en: S, lt: S, ru: S}}}}\n" for n in range(201))
    text = replaced("states:\n", "states:\n" + states)
    assert any("states" in p.message and "at most" in p.message for p in problems_of(text))


def test_check_command_accepts_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(WORKFLOWS / "standard.yaml", tmp_path / "standard.yaml")
    shutil.copy(WORKFLOWS / "young_girls.yaml", tmp_path / "young_girls.yml")
    assert check_command([str(tmp_path)], forms=FORMS) == 0
    assert "2 workflow definition(s) are valid" in capsys.readouterr().out
    (tmp_path / "young_girls.yml").write_text("id: !secret young_girls\n")
    assert check_command([str(tmp_path)], forms=FORMS) == 1
    assert f"{tmp_path / 'young_girls.yml'}:1:5: the tag '!secret' is not allowed" in (
        capsys.readouterr().out
    )
