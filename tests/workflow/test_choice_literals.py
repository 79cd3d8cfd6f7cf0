"""A condition comparing a select field with text that is none of its choices is refused."""

from __future__ import annotations

import pytest

from intake.workflow.loader import load_workflow
from intake.yaml_source import DefinitionProblems

from .helpers import FORMS
from .test_workflow_loader import VALID

DECISIONS = {"best_interests.decision": frozenset({"stay_in_care", "family_return"})}


def _with_condition(condition: str) -> str:
    return VALID.replace(
        "    requires_forms: [consent]\n",
        f'    requires_forms: [consent, best_interests]\n    condition: "{condition}"\n'
        "    explain: {en: The decision allows it, lt: Sprendimas leidžia}\n",
    )


def test_misspelt_choice_is_refused_at_its_column() -> None:
    text = _with_condition("best_interests.decision = 'family_retrun'")
    with pytest.raises(DefinitionProblems) as refused:
        load_workflow(text, file="workflows/tiny.yaml", forms=FORMS, choices=DECISIONS)
    [problem] = refused.value.problems
    line = text.splitlines()[problem.line - 1]
    assert line[problem.column - 1 :].startswith("'family_retrun'")
    assert "'family_retrun' is not a choice of best_interests.decision" in str(problem)


@pytest.mark.parametrize(
    "condition",
    [
        "best_interests.decision = 'family_return'",
        "best_interests.decision != 'stay_in_care'",
        "'family_return' = best_interests.decision",
    ],
)
def test_real_choices_pass(condition: str) -> None:
    workflow = load_workflow(
        _with_condition(condition), file="workflows/tiny.yaml", forms=FORMS, choices=DECISIONS
    )
    assert workflow.id == "tiny"


def test_not_equal_to_a_missing_choice_is_refused_too() -> None:
    with pytest.raises(DefinitionProblems):
        load_workflow(
            _with_condition("best_interests.decision != 'approved'"),
            file="workflows/tiny.yaml",
            forms=FORMS,
            choices=DECISIONS,
        )
