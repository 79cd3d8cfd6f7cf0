"""The engine: available actions, typed refusals, and a machine shared by every case."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest

from intake.workflow.compiled import Workflow
from intake.workflow.engine import Blocker, TransitionRefused, available_actions, fire
from intake.workflow.loader import load_workflow
from intake.workflow.machine import CaseModel, FireContext, machine_for

from .helpers import FORMS, WORKFLOWS, facts


def test_available_actions_list_every_blocker(standard: Workflow) -> None:
    case = facts("urgent_assistance", forms={"consent"})
    actions = {
        a.trigger: a for a in available_actions(workflow=standard, facts=case, role="supervisor")
    }
    assert set(actions) == {"move_to_housing", "record_lost_contact", "close"}
    assert actions["move_to_housing"].dest == "temporary_housing"
    assert actions["move_to_housing"].label["lt"] == "Perkelti į laikiną apgyvendinimą"
    assert actions["move_to_housing"].blockers == (
        Blocker("missing_form", "first_contact"),
        Blocker("missing_form", "urgent_needs"),
        Blocker("missing_team", "social_worker"),
    )
    assert not actions["move_to_housing"].ready
    assert actions["close"].blockers == (Blocker("reason_required"),)
    assert actions["close"].ready and actions["close"].requires_reason


def test_available_actions_name_the_role_that_may_not_act(standard: Workflow) -> None:
    case = facts("urgent_assistance")
    actions = available_actions(workflow=standard, facts=case, role="outreach_worker")
    ready = {a.trigger for a in actions if a.ready}
    assert ready == {"record_lost_contact"}
    close = next(a for a in actions if a.trigger == "close")
    assert Blocker("role_not_allowed", "outreach_worker") in close.blockers


def test_a_final_state_offers_nothing(standard: Workflow) -> None:
    assert available_actions(workflow=standard, facts=facts("closed"), role="supervisor") == []


@pytest.mark.parametrize(
    ("state", "trigger", "role", "reason", "code"),
    [
        ("urgent_assistance", "fly_away", "supervisor", None, "unknown_trigger"),
        (
            "urgent_assistance",
            "complete_reintegration",
            "supervisor",
            None,
            "not_allowed_from_state",
        ),
        ("nowhere", "close", "supervisor", "why", "unknown_state"),
        ("urgent_assistance", "move_to_housing", "outreach_worker", None, "role_not_allowed"),
        ("urgent_assistance", "move_to_housing", "admin", None, "role_not_allowed"),
        ("urgent_assistance", "move_to_housing", "supervisor", None, "guard_failed"),
        ("urgent_assistance", "close", "supervisor", None, "reason_required"),
        ("urgent_assistance", "close", "supervisor", "   ", "reason_required"),
    ],
)
def test_refusals_are_typed(
    standard: Workflow, state: str, trigger: str, role: str, reason: str | None, code: str
) -> None:
    with pytest.raises(TransitionRefused) as refused:
        fire(workflow=standard, facts=facts(state), role=role, trigger=trigger, reason=reason)
    assert refused.value.code == code


def test_a_role_that_may_not_act_learns_nothing_about_the_case(standard: Workflow) -> None:
    with pytest.raises(TransitionRefused) as refused:
        fire(
            workflow=standard,
            facts=facts("urgent_assistance"),
            role="outreach_worker",
            trigger="move_to_housing",
            reason=None,
        )
    assert refused.value.details == {"trigger": "move_to_housing"}


def test_a_refused_fire_changes_nothing(standard: Workflow) -> None:
    case = facts("urgent_assistance", forms={"consent"})
    before = dataclasses.replace(case)
    with pytest.raises(TransitionRefused):
        fire(
            workflow=standard, facts=case, role="supervisor", trigger="move_to_housing", reason=None
        )
    assert case == before
    # The shared machine still holds no case and the next case is unaffected.
    assert machine_for(standard).models == []
    ready = facts("urgent_assistance", forms=set(FORMS), team={"social_worker"})
    result = fire(
        workflow=standard, facts=ready, role="supervisor", trigger="move_to_housing", reason=None
    )
    assert (result.previous_state, result.new_state, result.trigger) == (
        "urgent_assistance",
        "temporary_housing",
        "move_to_housing",
    )


def test_the_library_itself_refuses_a_guarded_move(standard: Workflow) -> None:
    machine = machine_for(standard)
    model = CaseModel("urgent_assistance")
    context = FireContext(facts=facts("urgent_assistance"), role="supervisor", reason=None)
    assert machine.events["move_to_housing"].trigger(model, context=context) is False
    assert model.state == "urgent_assistance"


def test_one_machine_per_version_and_text(standard: Workflow) -> None:
    assert machine_for(standard) is machine_for(standard)
    text = (WORKFLOWS / "standard.yaml").read_text(encoding="utf-8")
    same = load_workflow(text, file="workflows/standard.yaml", forms=FORMS)
    assert machine_for(same) is machine_for(standard)
    edited = load_workflow(text + "\n# edited\n", file="workflows/standard.yaml", forms=FORMS)
    assert machine_for(edited) is not machine_for(standard)
    assert not any(name.startswith("to_") for name in machine_for(standard).events)


def test_the_workflow_cannot_be_changed_by_a_caller(standard: Workflow) -> None:
    with pytest.raises(TypeError):
        standard.states["closed"] = standard.states["urgent_assistance"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        standard.initial = "closed"  # type: ignore[misc]


def test_the_shared_machine_serves_many_threads_at_once(standard: Workflow) -> None:
    ready = facts("urgent_assistance", forms=set(FORMS), team={"social_worker"})
    blocked = facts("urgent_assistance")

    def one(index: int) -> str:
        case = ready if index % 2 else blocked
        try:
            return fire(
                workflow=standard,
                facts=case,
                role="supervisor",
                trigger="move_to_housing",
                reason=None,
            ).new_state
        except TransitionRefused as refused:
            return refused.code

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(one, range(2000)))
    assert outcomes == ["guard_failed", "temporary_housing"] * 1000


@pytest.mark.parametrize(
    ("state", "trigger", "code", "details"),
    [
        ("urgent_assistance", "no_such_step", "unknown_trigger", {"trigger": "no_such_step"}),
        ("nowhere", "close", "unknown_state", {"state": "nowhere"}),
        (
            "closed",
            "move_to_housing",
            "not_allowed_from_state",
            {"trigger": "move_to_housing", "state": "closed"},
        ),
        ("urgent_assistance", "close", "reason_required", {"trigger": "close"}),
    ],
)
def test_a_refusal_says_what_was_asked(
    standard: Workflow, state: str, trigger: str, code: str, details: dict[str, str]
) -> None:
    with pytest.raises(TransitionRefused) as refused:
        fire(workflow=standard, facts=facts(state), role="supervisor", trigger=trigger, reason=None)
    assert (refused.value.code, refused.value.details) == (code, details)
    assert str(refused.value) == f"{code}: {details}"


def test_a_failed_guard_names_every_blocker(standard: Workflow) -> None:
    with pytest.raises(TransitionRefused) as refused:
        fire(
            workflow=standard,
            facts=facts("urgent_assistance", forms={"consent"}),
            role="supervisor",
            trigger="move_to_housing",
            reason=None,
        )
    assert refused.value.code == "guard_failed"
    assert refused.value.details == {
        "trigger": "move_to_housing",
        "blockers": [
            Blocker("missing_form", "first_contact"),
            Blocker("missing_form", "urgent_needs"),
            Blocker("missing_team", "social_worker"),
        ],
    }
