"""Random cases, roles and triggers never move a case in a way the definition forbids.

Each step is compared with an independent reading of the YAML (plain safe_load
and the expression compiler), not with the loader's compiled tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.expressions import compile_expression
from intake.workflow.compiled import Workflow
from intake.workflow.engine import CaseFacts, TransitionRefused, fire

from .helpers import FORMS, TODAY, WORKFLOWS, shipped

ROLES = ["outreach_worker", "supervisor", "admin", "stranger"]
TEAM = [
    "social_worker",
    "psychologist",
    "health_specialist",
    "pedagogue",
    "law_enforcement_liaison",
]
REASONS = [None, "", "   ", "moved abroad"]
ANSWER_VALUES: dict[str, list[Any]] = {
    "best_interests.decision": [None, "stay_in_care", "family_return", "reassess"],
    "family_assessment.recommendation": [None, "return_recommended", "return_not_recommended"],
    "first_contact.gender": [None, "female", "male"],
    "first_contact.age_years": [None, 9, 17, 18, 40],
    "safe_return_plan.wants_to_return": [None, True, False],
}
CONSENTS = ["services", "sharing", "referral", "return"]
VARIABLES = {
    f"{form}.{field}": kind for form, fields in FORMS.items() for field, kind in fields.items()
}


class Oracle:
    """What the YAML says should happen, read without the loader."""

    def __init__(self, track_id: str) -> None:
        raw = yaml.safe_load((WORKFLOWS / f"{track_id}.yaml").read_text(encoding="utf-8"))
        self.final = {name for name, s in raw["states"].items() if s.get("final", False)}
        self.states = list(raw["states"])
        self.transitions = raw["transitions"]

    def sources(self, transition: dict[str, Any]) -> list[str]:
        source = transition["source"]
        if source == "*":
            return [s for s in self.states if s not in self.final]
        return [source] if isinstance(source, str) else list(source)

    def expected(
        self, state: str, trigger: str, role: str, case: CaseFacts, reason: str | None
    ) -> str | None:
        """The state the case must reach, or None when the move must be refused."""
        matches = [
            t for t in self.transitions if t["trigger"] == trigger and state in self.sources(t)
        ]
        assert len(matches) <= 1
        if not matches:
            return None
        t = matches[0]
        allowed = (
            role in t.get("roles", [])
            and set(t.get("requires_forms", [])) <= case.completed_forms
            and set(t.get("requires_team", [])) <= case.team_functions
            and set(t.get("requires_consent", [])) <= case.consents
            and (not t.get("requires_reason", False) or bool(reason and reason.strip()))
        )
        if allowed and t.get("condition"):
            condition = compile_expression(t["condition"], variables=VARIABLES)
            allowed = condition.evaluate(case.answers, today=case.today) is True
        return t["dest"] if allowed else None


TRACKS = {
    track_id: (shipped(track_id), Oracle(track_id)) for track_id in ("standard", "young_girls")
}


def steps(workflow: Workflow) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    triggers = [*sorted(workflow.triggers), "bogus", "to_closed"]
    step = st.tuples(
        st.sampled_from(triggers),
        # Lean towards a supervisor with everything in place, so cases really move.
        st.one_of(st.just("supervisor"), st.sampled_from(ROLES)),
        st.one_of(st.just(frozenset(FORMS)), st.frozensets(st.sampled_from(sorted(FORMS)))),
        st.one_of(st.just(frozenset(TEAM)), st.frozensets(st.sampled_from(TEAM))),
        st.fixed_dictionaries({k: st.sampled_from(v) for k, v in ANSWER_VALUES.items()}),
        st.sampled_from(REASONS),
        st.one_of(st.just(frozenset(CONSENTS)), st.frozensets(st.sampled_from(CONSENTS))),
    )
    return st.lists(step, max_size=40)


@pytest.mark.parametrize("track_id", sorted(TRACKS))
def test_random_fires_follow_the_definition(track_id: str) -> None:
    workflow, oracle = TRACKS[track_id]

    @settings(max_examples=150, deadline=None)
    @given(start=st.sampled_from(oracle.states), sequence=steps(workflow))
    def run(start: str, sequence: list[tuple[Any, ...]]) -> None:
        state = start
        for trigger, role, forms, team, answers, reason, consents in sequence:
            case = CaseFacts(
                state=state,
                completed_forms=forms,
                team_functions=team,
                answers={k: v for k, v in answers.items() if v is not None},
                today=TODAY,
                consents=consents,
            )
            expected = oracle.expected(state, trigger, role, case, reason)
            try:
                result = fire(
                    workflow=workflow, facts=case, role=role, trigger=trigger, reason=reason
                )
            except TransitionRefused:
                assert expected is None, f"{trigger} by {role} from {state} was refused"
                continue
            assert expected is not None, f"{trigger} by {role} from {state} should be refused"
            assert result.previous_state == state
            assert result.new_state == expected
            state = result.new_state
        assert state in oracle.states

    run()


def test_the_oracle_is_not_blind() -> None:
    """A supervisor with everything in place does move the case: the property can fail."""
    _, oracle = TRACKS["standard"]
    case = CaseFacts(
        state="urgent_assistance",
        completed_forms=frozenset(FORMS),
        team_functions=frozenset(TEAM),
        answers={},
        today=dt.date(2025, 1, 1),
    )
    assert oracle.expected("urgent_assistance", "move_to_housing", "supervisor", case, None) == (
        "temporary_housing"
    )
    assert oracle.expected("urgent_assistance", "move_to_housing", "admin", case, None) is None
