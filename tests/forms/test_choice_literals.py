"""Inside a form, text compared with a select field must be one of its choices."""

from __future__ import annotations

import pytest

from intake.yaml_source import DefinitionProblems

from .helpers import make_form, page

FIELDS = """\
- name: gender
  type: select_one
  label: {en: Gender, lt: Lytis}
  choices:
    - {name: female, label: {en: Female, lt: Moteris}}
    - {name: male, label: {en: Male, lt: Vyras}}
- name: pregnant
  type: yes_no
  label: {en: Pregnant, lt: Nėščia}
  relevant: "gender = '%s'"
"""


def test_a_real_choice_passes() -> None:
    form = make_form(page(FIELDS % "female"))
    assert form.fields["pregnant"].relevant is not None


def test_a_misspelt_choice_is_refused_with_its_place() -> None:
    with pytest.raises(DefinitionProblems) as refused:
        make_form(page(FIELDS % "femal"))
    [problem] = refused.value.problems
    assert "'femal' is not a choice of gender" in problem.message
    assert problem.file == "sample.yaml" and problem.line > 1
