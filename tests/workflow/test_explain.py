"""Conditions in plain words, required services and the coming-of-age rule, as the
workflow check and the engine see them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.cli import main
from intake.workflow import engine
from intake.workflow.files import load_track_files
from intake.workflow.loader import load_workflow
from intake.workflow.services import parse_catalogue, shipped_catalogue
from intake.yaml_source import DefinitionProblems

from .helpers import FORMS, WORKFLOWS, facts, shipped
from .test_workflow_loader import VALID

CONDITION = '    requires_forms: [consent]\n    condition: "consent.given = true"\n'
EXPLAIN = "    explain: {en: The person must have consented, lt: Asmuo turi sutikti}\n"


def _problems(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(DefinitionProblems) as refused:
        load_workflow(text, file="workflows/tiny.yaml", forms=FORMS, **kwargs)  # type: ignore[arg-type]
    return [p.message for p in refused.value.problems]


def test_a_condition_without_explain_is_refused_at_the_condition() -> None:
    text = VALID.replace("    requires_forms: [consent]\n", CONDITION)
    with pytest.raises(DefinitionProblems) as refused:
        load_workflow(text, file="workflows/tiny.yaml", forms=FORMS)
    [problem] = refused.value.problems
    assert (problem.line, problem.column) == (21, 16)
    assert "needs 'explain:'" in problem.message


def test_a_condition_with_explain_in_every_language_loads_and_keeps_the_words() -> None:
    text = VALID.replace("    requires_forms: [consent]\n", CONDITION + EXPLAIN)
    workflow = load_workflow(text, file="workflows/tiny.yaml", forms=FORMS)
    [finish] = workflow.transitions
    assert finish.explain == {"en": "The person must have consented", "lt": "Asmuo turi sutikti"}


def test_an_explanation_missing_a_language_or_adding_one_is_refused() -> None:
    text = VALID.replace(
        "    requires_forms: [consent]\n",
        CONDITION + "    explain: {en: Consented, de: Zugestimmt}\n",
    )
    assert sorted(_problems(text)) == [
        "'de' is not one of the track's languages",
        "the 'lt' translation is missing",
    ]


def test_an_explanation_without_a_condition_is_refused() -> None:
    text = VALID.replace(
        "    requires_forms: [consent]\n", "    requires_forms: [consent]\n" + EXPLAIN
    )
    assert _problems(text) == ["'explain:' explains a condition: add one"]


def test_intake_workflows_check_refuses_a_shipped_track_without_explain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in WORKFLOWS.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    girls = tmp_path / "young_girls.yaml"
    lines = girls.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "explain:")
    girls.write_text("".join(lines[:start] + lines[start + 8 :]), encoding="utf-8")
    assert main(["workflows", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "young_girls.yaml:" in out
    assert "a condition needs 'explain:'" in out


def test_the_shipped_tracks_explain_every_condition_in_every_language() -> None:
    for track_id in ("standard", "young_girls"):
        workflow = shipped(track_id)
        conditioned = [t for t in workflow.transitions if t.condition is not None]
        assert conditioned
        for t in conditioned:
            assert t.explain is not None
            assert set(t.explain) == set(workflow.languages)


def test_a_blocked_condition_carries_its_explanation_and_the_forms_it_reads() -> None:
    girls = shipped("young_girls")
    case = facts(
        "urgent_assistance",
        forms={"consent", "first_contact", "urgent_needs", "guardian", "best_interests"},
        team={"social_worker"},
        answers={"best_interests.decision": "reassess"},
    )
    [action] = [
        a
        for a in engine.available_actions(workflow=girls, facts=case, role="supervisor")
        if a.trigger == "move_to_specialised_housing"
    ]
    [blocker] = action.blockers
    assert blocker.code == "condition_not_met"
    assert blocker.forms == ("best_interests",)
    assert blocker.explain is not None
    assert "Not yet: assess again" in blocker.explain["en"]


# --- required services ---------------------------------------------------------------

SERVICES = "    requires_services: {psychological_session: 3}\n"


def test_required_services_block_until_enough_were_given() -> None:
    text = VALID.replace(
        "    requires_forms: [consent]\n", "    requires_forms: [consent]\n" + SERVICES
    )
    workflow = load_workflow(text, file="workflows/tiny.yaml", forms=FORMS)
    done = {"consent"}
    for given_count, missing in ((0, 3), (2, 1)):
        case = facts("open", forms=done)
        case = type(case)(**{**case.__dict__, "services": {"psychological_session": given_count}})
        [action] = engine.available_actions(workflow=workflow, facts=case, role="supervisor")
        [blocker] = action.blockers
        assert (blocker.code, blocker.subject, blocker.missing) == (
            "missing_services",
            "psychological_session",
            missing,
        )
    case = facts("open", forms=done)
    case = type(case)(**{**case.__dict__, "services": {"psychological_session": 3}})
    moved = engine.fire(
        workflow=workflow, facts=case, role="supervisor", trigger="finish", reason=None
    )
    assert moved.new_state == "done"


def test_an_unknown_service_type_is_refused_where_it_is_written() -> None:
    text = VALID.replace(
        "    requires_forms: [consent]\n",
        "    requires_forms: [consent]\n    requires_services: {pyschological_session: 3}\n",
    )
    with pytest.raises(DefinitionProblems) as refused:
        load_workflow(text, file="workflows/tiny.yaml", forms=FORMS)
    [problem] = refused.value.problems
    assert problem.message == "unknown service 'pyschological_session'"
    assert problem.line == 21


@settings(max_examples=40, deadline=None)
@given(count=st.one_of(st.integers(max_value=0), st.integers(min_value=1001)))
def test_a_required_count_out_of_bounds_is_refused(count: int) -> None:
    text = VALID.replace(
        "    requires_forms: [consent]\n",
        f"    requires_forms: [consent]\n    requires_services: {{meal: {count}}}\n",
    )
    with pytest.raises(DefinitionProblems):
        load_workflow(text, file="workflows/tiny.yaml", forms=FORMS)


def test_the_shipped_catalogue_names_every_service_in_every_language() -> None:
    catalogue = shipped_catalogue()
    assert {
        "meal",
        "hygiene_kit",
        "clothing",
        "shelter_night",
        "financial_allowance",
        "transport",
        "medical_visit",
        "psychological_session",
        "legal_consultation",
        "interpretation",
        "education_session",
        "employment_support",
        "family_tracing",
        "return_travel",
    } <= catalogue.codes()
    for kind in catalogue.types.values():
        assert set(kind.label) == set(catalogue.languages)
    assert set(shipped("standard").languages) <= set(catalogue.languages)


def test_a_catalogue_missing_a_translation_is_refused() -> None:
    text = "languages: [en, lt]\nservices:\n  meal:\n    unit: meal\n    label: {en: Meal}\n"
    with pytest.raises(DefinitionProblems) as refused:
        parse_catalogue(text, file="services.yaml")
    assert [p.message for p in refused.value.problems] == ["the 'lt' translation is missing"]


# --- coming of age -----------------------------------------------------------------------


def _copy_tracks(tmp_path: Path) -> Path:
    for path in WORKFLOWS.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path / "young_girls.yaml"


def test_the_girls_track_maps_every_open_stage_to_an_open_stage_of_the_standard_track() -> None:
    girls, standard = shipped("young_girls"), shipped("standard")
    rule = girls.definition.on_age
    assert rule is not None and rule.years == 18 and rule.go_to.track == "standard"
    open_girls = {n for n, s in girls.states.items() if not s.final}
    assert set(rule.go_to.state_map) == open_girls
    for target in rule.go_to.state_map.values():
        assert not standard.states[target].final


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("track: standard", "unknown track 'grown_ups'"),
        ("education: reintegration", "'nowhere' is not an open stage of track 'standard'"),
        ("education: reintegration", "'closed' is not an open stage of track 'standard'"),
    ],
)
def test_an_age_rule_to_a_missing_track_or_stage_is_refused(
    tmp_path: Path, change: str, message: str
) -> None:
    girls = _copy_tracks(tmp_path)
    replacement = {
        "unknown track 'grown_ups'": "track: grown_ups",
        "'nowhere' is not an open stage of track 'standard'": "education: nowhere",
        "'closed' is not an open stage of track 'standard'": "education: closed",
    }[message]
    girls.write_text(girls.read_text(encoding="utf-8").replace(change, replacement), "utf-8")
    paths = sorted(str(p) for p in tmp_path.glob("*.yaml"))
    with pytest.raises(DefinitionProblems) as refused:
        load_track_files(paths, forms=FORMS)
    assert [p.message for p in refused.value.problems] == [message]


def test_an_open_stage_left_out_of_the_age_map_is_refused(tmp_path: Path) -> None:
    girls = _copy_tracks(tmp_path)
    text = girls.read_text(encoding="utf-8").replace("      education: reintegration\n", "")
    with pytest.raises(DefinitionProblems) as refused:
        load_workflow(text, file="workflows/young_girls.yaml", forms=FORMS)
    assert [p.message for p in refused.value.problems] == [
        "'education' has no stage to move to when she comes of age"
    ]
