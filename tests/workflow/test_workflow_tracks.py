"""The shipped tracks walked from first to last state, the track choice, diagrams, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.i18n import SUPPORTED_LOCALES
from intake.workflow.cli import check_command, diagram_command
from intake.workflow.compiled import Workflow
from intake.workflow.diagram import mermaid_diagram
from intake.workflow.engine import CaseFacts, TransitionRefused, choose_track, fire
from intake.workflow.loader import check_track_set

from .helpers import FORMS, TODAY, WORKFLOWS, facts

ALL_FORMS = frozenset(FORMS)
ALL_TEAM = frozenset(
    {"social_worker", "psychologist", "health_specialist", "pedagogue", "law_enforcement_liaison"}
)
ALL_CONSENTS = frozenset({"services", "sharing", "referral", "return"})
WANTS_TO_RETURN = {"safe_return_plan.wants_to_return": True}


def walk(workflow: Workflow, triggers: list[str], *, answers: dict[str, object]) -> list[str]:
    """Fire each trigger as a supervisor on a case that has every form, team function and
    consent, and a person who wants to return."""
    state = workflow.initial
    visited = [state]
    for trigger in triggers:
        case = facts(
            state,
            forms=ALL_FORMS,
            team=ALL_TEAM,
            answers={**WANTS_TO_RETURN, **answers},
            consents=ALL_CONSENTS,
        )
        state = fire(workflow=workflow, facts=case, role="supervisor", trigger=trigger, reason=None)
        state = state.new_state
        visited.append(state)
    return visited


def test_the_shipped_tracks_form_a_valid_set(standard: Workflow, young_girls: Workflow) -> None:
    assert check_track_set([standard, young_girls]) == []
    assert set(standard.languages) == set(young_girls.languages) == set(SUPPORTED_LOCALES)


def test_standard_walks_to_closure_by_reintegration_and_by_safe_return(standard: Workflow) -> None:
    main = ["move_to_housing", "start_psychological_support"]
    assert walk(standard, [*main, "start_reintegration", "complete_reintegration"], answers={}) == [
        "urgent_assistance",
        "temporary_housing",
        "psychological_support",
        "reintegration",
        "closed",
    ]
    assert walk(standard, [*main, "start_safe_return", "complete_safe_return"], answers={})[
        -2:
    ] == [
        "safe_return",
        "closed",
    ]


GIRL_APPROVED = {
    "best_interests.decision": "family_return",
    "family_assessment.recommendation": "return_recommended",
}


def test_young_girls_walks_to_closure(young_girls: Workflow) -> None:
    main = [
        "move_to_specialised_housing",
        "start_psychological_support",
        "start_education",
        "start_family_assessment",
    ]
    assert walk(
        young_girls, [*main, "start_safe_return", "complete_safe_return"], answers=GIRL_APPROVED
    ) == [
        "urgent_assistance",
        "specialised_housing",
        "psychological_support",
        "education",
        "family_assessment",
        "safe_return",
        "closed",
    ]
    assert (
        walk(
            young_girls,
            [*main, "start_reintegration", "complete_reintegration"],
            answers=GIRL_APPROVED,
        )[-1]
        == "closed"
    )


def refusal(
    workflow: Workflow, case: CaseFacts, trigger: str, role: str = "supervisor"
) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as refused:
        fire(workflow=workflow, facts=case, role=role, trigger=trigger, reason=None)
    return refused.value


def test_young_girls_need_guardian_and_an_approved_best_interests_assessment(
    young_girls: Workflow,
) -> None:
    everything_but = ALL_FORMS - {"guardian"}
    case = facts("urgent_assistance", forms=everything_but, team=ALL_TEAM, answers=GIRL_APPROVED)
    refused = refusal(young_girls, case, "move_to_specialised_housing")
    assert refused.code == "guard_failed"
    assert [(b.code, b.subject) for b in refused.details["blockers"]] == [
        ("missing_form", "guardian")
    ]

    declined = {"best_interests.decision": "reassess"}
    case = facts("urgent_assistance", forms=ALL_FORMS, team=ALL_TEAM, answers=declined)
    refused = refusal(young_girls, case, "move_to_specialised_housing")
    assert [b.code for b in refused.details["blockers"]] == ["condition_not_met"]


def test_young_girls_need_a_psychologist_and_a_pedagogue(young_girls: Workflow) -> None:
    case = facts("specialised_housing", forms=ALL_FORMS, team=ALL_TEAM - {"psychologist"})
    refused = refusal(young_girls, case, "start_psychological_support")
    assert [(b.code, b.subject) for b in refused.details["blockers"]] == [
        ("missing_team", "psychologist")
    ]
    case = facts("psychological_support", forms=ALL_FORMS, team=ALL_TEAM - {"pedagogue"})
    refused = refusal(young_girls, case, "start_education")
    assert [(b.code, b.subject) for b in refused.details["blockers"]] == [
        ("missing_team", "pedagogue")
    ]


def test_no_return_home_without_a_family_assessment_that_recommends_it(
    young_girls: Workflow,
) -> None:
    no_assessment = facts(
        "family_assessment", forms=ALL_FORMS - {"family_assessment"}, team=ALL_TEAM
    )
    assert refusal(young_girls, no_assessment, "start_safe_return").code == "guard_failed"
    stay = {
        "best_interests.decision": "stay_in_care",
        "family_assessment.recommendation": "return_not_recommended",
    }
    case = facts(
        "family_assessment", forms=ALL_FORMS, team=ALL_TEAM, answers=stay, consents=ALL_CONSENTS
    )
    refused = refusal(young_girls, case, "start_safe_return")
    assert [b.code for b in refused.details["blockers"]] == ["condition_not_met"]
    moved = fire(
        workflow=young_girls,
        facts=case,
        role="supervisor",
        trigger="start_reintegration",
        reason=None,
    )
    assert moved.new_state == "reintegration"


@pytest.mark.parametrize("track", ["standard", "young_girls"])
def test_no_safe_return_without_the_return_consent_and_the_wish_to_return(
    track: str, standard: Workflow, young_girls: Workflow
) -> None:
    workflow = {"standard": standard, "young_girls": young_girls}[track]
    source = "psychological_support" if track == "standard" else "family_assessment"
    refused_by_person = {**GIRL_APPROVED, "safe_return_plan.wants_to_return": False}
    case = facts(
        source,
        forms=ALL_FORMS,
        team=ALL_TEAM,
        answers=refused_by_person,
        consents=ALL_CONSENTS - {"return"},
    )
    refused = refusal(workflow, case, "start_safe_return")
    blockers = refused.details["blockers"]
    assert [b.code for b in blockers] == ["missing_consent", "condition_not_met"]
    assert blockers[0].subject == "return"
    # The consent alone is not enough: the person must also want to return.
    with_consent = facts(
        source, forms=ALL_FORMS, team=ALL_TEAM, answers=refused_by_person, consents=ALL_CONSENTS
    )
    refused = refusal(workflow, with_consent, "start_safe_return")
    assert [b.code for b in refused.details["blockers"]] == ["condition_not_met"]
    wants = {**GIRL_APPROVED, "safe_return_plan.wants_to_return": True}
    ready = facts(source, forms=ALL_FORMS, team=ALL_TEAM, answers=wants, consents=ALL_CONSENTS)
    moved = fire(
        workflow=workflow, facts=ready, role="supervisor", trigger="start_safe_return", reason=None
    )
    assert moved.new_state == "safe_return"


@pytest.mark.parametrize("track", ["standard", "young_girls"])
def test_lost_contact_pauses_the_stage_and_resume_returns_to_it(
    track: str, standard: Workflow, young_girls: Workflow
) -> None:
    workflow = {"standard": standard, "young_girls": young_girls}[track]
    stages = [
        name
        for name, s in workflow.states.items()
        if not s.final and not name.startswith("contact_lost_")
    ]
    for stage in stages:
        case = facts(stage)
        assert (
            refusal(workflow, case, "record_lost_contact", role="outreach_worker").code
            == "reason_required"
        )
        lost = fire(
            workflow=workflow,
            facts=case,
            role="outreach_worker",
            trigger="record_lost_contact",
            reason="not at the agreed meeting for two weeks",
        )
        assert lost.new_state == f"contact_lost_{stage}"
        paused = facts(lost.new_state)
        assert (
            refusal(workflow, paused, "resume", role="outreach_worker").code == "role_not_allowed"
        )
        back = fire(
            workflow=workflow, facts=paused, role="supervisor", trigger="resume", reason=None
        )
        assert back.new_state == stage


@pytest.mark.parametrize("track", ["standard", "young_girls"])
def test_any_open_case_closes_with_a_reason_and_a_closed_one_never_moves(
    track: str, standard: Workflow, young_girls: Workflow
) -> None:
    workflow = {"standard": standard, "young_girls": young_girls}[track]
    for name, state in workflow.states.items():
        case = facts(name)
        if state.final:
            assert refusal(workflow, case, "close").code == "not_allowed_from_state"
            continue
        assert refusal(workflow, case, "close").code == "reason_required"
        closed = fire(
            workflow=workflow, facts=case, role="supervisor", trigger="close", reason="moved abroad"
        )
        assert closed.new_state == "closed"


@pytest.mark.parametrize("track", ["standard", "young_girls"])
def test_outreach_workers_only_record_lost_contact_and_admins_fire_nothing(
    track: str, standard: Workflow, young_girls: Workflow
) -> None:
    workflow = {"standard": standard, "young_girls": young_girls}[track]
    outreach = {t.trigger for t in workflow.transitions if "outreach_worker" in t.roles}
    assert outreach == {"record_lost_contact"}
    assert not any("admin" in t.roles for t in workflow.transitions)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"first_contact.gender": "female", "first_contact.age_years": 16}, "young_girls"),
        ({"first_contact.gender": "male", "first_contact.age_years": 16}, "standard"),
        ({"first_contact.gender": "female", "first_contact.age_years": 30}, "standard"),
        ({"first_contact.gender": "female", "first_contact.age_years": 18}, "standard"),
        # Age not known: nothing proves she is a minor, so the catch-all takes the case.
        ({"first_contact.gender": "female"}, "standard"),
        ({}, "standard"),
    ],
)
def test_choose_track(
    answers: dict[str, object], expected: str, standard: Workflow, young_girls: Workflow
) -> None:
    for order in ([standard, young_girls], [young_girls, standard]):
        assert choose_track(workflows=order, answers=answers, today=TODAY).id == expected


def test_choose_track_without_a_catch_all(young_girls: Workflow) -> None:
    with pytest.raises(LookupError):
        choose_track(workflows=[young_girls], answers={}, today=TODAY)


@pytest.mark.parametrize("language", SUPPORTED_LOCALES)
def test_the_diagram_shows_every_state_in_the_language(
    language: str, young_girls: Workflow
) -> None:
    text = mermaid_diagram(young_girls, language=language)
    assert text.startswith(f'---\ntitle: "{young_girls.title[language]}"\n---\nstateDiagram-v2')
    for name, state in young_girls.states.items():
        assert f'state "{state.label[language]}" as {name}' in text
    assert "[*] --> urgent_assistance" in text
    assert "closed --> [*]" in text
    assert "s_active" not in text.split("classDef s_previous")[1]  # no case is "current" here


def test_diagram_command_draws_a_shipped_track_and_refuses_an_unknown_one() -> None:
    assert "family_assessment --> safe_return" in diagram_command("young_girls")
    with pytest.raises(LookupError):
        diagram_command("no_such_track")


def test_check_command_accepts_the_shipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    paths = [str(p) for p in sorted(WORKFLOWS.glob("*.yaml"))]
    assert check_command(paths, forms=FORMS) == 0
    assert check_command([], forms=FORMS) == 0
    assert "valid" in capsys.readouterr().out


def test_check_command_prints_placed_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    text = (WORKFLOWS / "standard.yaml").read_text(encoding="utf-8")
    broken.write_text(
        text.replace("roles: [supervisor]", "roles: [superviser]", 1), encoding="utf-8"
    )
    assert check_command([str(broken)], forms=FORMS) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    file, line, column, message = lines[0].split(":", 3)
    assert file == str(broken)
    assert text.splitlines()[int(line) - 1][int(column) - 1 :].startswith("supervisor]")
    assert message == " unknown role 'superviser'"
