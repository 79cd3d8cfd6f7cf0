"""A stage's `team:` enforced where the YAML says `team_required: true` (the standard track's
safe return): no step forward without those functions on the team; a step that records an
event with a reason (lost contact, closing early) stays possible."""

from __future__ import annotations

import pytest

from intake.workflow.engine import TransitionRefused, fire
from intake.workflow.loader import load_workflow
from tests.workflow.helpers import FORMS, WORKFLOWS, facts, shipped

FORMS_DONE = {"safe_return_plan"}


def test_the_shipped_flag_compiles_into_the_steps_out_of_the_stage() -> None:
    standard = shipped("standard")
    assert standard.states["safe_return"].team_required
    assert not standard.states["urgent_assistance"].team_required
    forward = standard.route(state="safe_return", trigger="complete_safe_return")
    assert forward is not None
    assert dict(forward.requires_stage_team) == {
        "safe_return": ("social_worker", "law_enforcement_liaison")
    }
    lost = standard.route(state="safe_return", trigger="record_lost_contact")
    assert lost is not None and dict(lost.requires_stage_team) == {}


def test_no_step_forward_without_the_stage_team() -> None:
    standard = shipped("standard")
    without = facts("safe_return", forms=FORMS_DONE, team={"social_worker"})
    with pytest.raises(TransitionRefused) as refused:
        fire(
            workflow=standard,
            facts=without,
            role="supervisor",
            trigger="complete_safe_return",
            reason=None,
        )
    blockers = refused.value.details["blockers"]
    assert [(b.code, b.subject) for b in blockers] == [("missing_team", "law_enforcement_liaison")]
    complete = facts(
        "safe_return", forms=FORMS_DONE, team={"social_worker", "law_enforcement_liaison"}
    )
    moved = fire(
        workflow=standard,
        facts=complete,
        role="supervisor",
        trigger="complete_safe_return",
        reason=None,
    )
    assert moved.new_state == "closed"
    lost = fire(
        workflow=standard,
        facts=without,
        role="supervisor",
        trigger="record_lost_contact",
        reason="no answer",
    )
    assert lost.new_state == "contact_lost_safe_return"


def test_without_the_flag_the_team_is_only_shown() -> None:
    yaml_text = (WORKFLOWS / "standard.yaml").read_text(encoding="utf-8")
    plain = load_workflow(
        yaml_text.replace("    team_required: true\n", ""), file="standard.yaml", forms=FORMS
    )
    forward = plain.route(state="safe_return", trigger="complete_safe_return")
    assert forward is not None and dict(forward.requires_stage_team) == {}
    without = facts("safe_return", forms=FORMS_DONE, team=set())
    moved = fire(
        workflow=plain,
        facts=without,
        role="supervisor",
        trigger="complete_safe_return",
        reason=None,
    )
    assert moved.new_state == "closed"
