"""The loader refuses a bad track and names every problem at file:line:column."""

from __future__ import annotations

import pytest

from intake.workflow.loader import check_track_set, load_workflow
from intake.yaml_source import DefinitionProblems

from .helpers import FORMS

# Line numbers below are counted in this text; keep it in step with the assertions.
VALID = """\
id: tiny
version: 1
languages: [en, lt]
title: {en: Tiny, lt: Mažas}
initial: open
states:
  open:
    label: {en: Open, lt: Atvira}
    forms: [consent]
    team: [social_worker]
  done:
    label: {en: Done, lt: Baigta}
    final: true
transitions:
  - trigger: finish
    source: open
    dest: done
    label: {en: Finish, lt: Baigti}
    roles: [supervisor]
    requires_forms: [consent]
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(DefinitionProblems) as refused:
        load_workflow(text, file="workflows/tiny.yaml", forms=FORMS)
    return [str(p) for p in refused.value.problems]


def test_the_valid_track_loads() -> None:
    workflow = load_workflow(VALID, file="workflows/tiny.yaml", forms=FORMS)
    assert workflow.initial == "open"
    assert workflow.route(state="open", trigger="finish") is not None


def test_yaml_that_does_not_parse_is_placed() -> None:
    [problem] = problems_of(VALID.replace("states:\n", "states: [\n"))
    assert problem.startswith("workflows/tiny.yaml:8:10: ")
    assert "YAML does not parse" in problem


def test_schema_errors_are_placed_and_all_listed() -> None:
    text = VALID.replace("version: 1", "version: one").replace("    final: true", "    final: 3")
    text += "colour: blue\n"
    problems = problems_of(text)
    assert any(p.startswith("workflows/tiny.yaml:2:10: version") for p in problems)
    assert any(p.startswith("workflows/tiny.yaml:13:12: states.done.final") for p in problems)
    assert any(p.startswith("workflows/tiny.yaml:21:9: colour") for p in problems)


def test_unknown_form_role_and_team_function() -> None:
    text = (
        VALID.replace("    forms: [consent]", "    forms: [consnet]")
        .replace("team: [social_worker]", "team: [astrologer]")
        .replace("roles: [supervisor]", "roles: [superviser]")
        .replace("requires_forms: [consent]", "requires_forms: [consent, diary]")
    )
    assert problems_of(text) == [
        "workflows/tiny.yaml:9:13: unknown form 'consnet'",
        "workflows/tiny.yaml:10:12: unknown team function 'astrologer'",
        "workflows/tiny.yaml:19:13: unknown role 'superviser'",
        "workflows/tiny.yaml:20:31: unknown form 'diary'",
    ]


def test_unknown_states_in_source_dest_and_initial() -> None:
    text = (
        VALID.replace("initial: open", "initial: opened")
        .replace("source: open", "source: [open, pending]")
        .replace("dest: done", "dest: finished")
    )
    problems = problems_of(text)
    assert "workflows/tiny.yaml:5:10: unknown state 'opened'" in problems
    assert "workflows/tiny.yaml:16:20: unknown state 'pending'" in problems
    assert "workflows/tiny.yaml:17:11: unknown state 'finished'" in problems


def test_a_state_nothing_reaches_and_a_state_with_no_way_out() -> None:
    text = VALID.replace(
        "  done:\n",
        "  orphan:\n    label: {en: Orphan, lt: Našlaitė}\n  done:\n",
    )
    problems = problems_of(text)
    assert "workflows/tiny.yaml:11:3: no transition reaches 'orphan' from the start" in problems
    assert "workflows/tiny.yaml:11:3: 'orphan' is not final and has no way out" in problems


def test_a_cycle_that_never_reaches_a_final_state() -> None:
    text = VALID.replace("    source: open\n    dest: done", "    source: open\n    dest: loop")
    text = text.replace(
        "  done:\n",
        "  loop:\n    label: {en: Loop, lt: Ciklas}\n  done:\n",
    )
    text += (
        "  - trigger: again\n    source: loop\n    dest: open\n"
        "    label: {en: Again, lt: Vėl}\n    roles: [supervisor]\n"
    )
    problems = problems_of(text)
    assert "workflows/tiny.yaml:7:3: no final state can be reached from 'open'" in problems
    assert "workflows/tiny.yaml:13:3: no transition reaches 'done' from the start" in problems


def test_the_same_trigger_twice_from_one_state() -> None:
    text = VALID + (
        "  - trigger: finish\n    source: '*'\n    dest: done\n"
        "    label: {en: Finish, lt: Baigti}\n    roles: [supervisor]\n"
    )
    assert problems_of(text) == [
        "workflows/tiny.yaml:21:14: 'finish' already leaves 'open' (transition 1)"
    ]


def test_a_transition_out_of_a_final_state_is_refused() -> None:
    text = VALID + (
        "  - trigger: reopen\n    source: done\n    dest: open\n"
        "    label: {en: Reopen, lt: Atidaryti}\n    roles: [supervisor]\n"
    )
    assert problems_of(text) == [
        "workflows/tiny.yaml:22:13: 'done' is final: no transition may leave it"
    ]


def test_missing_and_undeclared_translations() -> None:
    text = VALID.replace("{en: Open, lt: Atvira}", "{en: Open}").replace(
        "{en: Finish, lt: Baigti}", "{en: Finish, lt: Baigti, de: Fertig}"
    )
    assert problems_of(text) == [
        "workflows/tiny.yaml:8:5: the 'lt' translation is missing",
        "workflows/tiny.yaml:18:41: 'de' is not one of the track's languages",
    ]


def test_a_bad_expression_is_placed_inside_its_text() -> None:
    text = VALID.replace(
        "    requires_forms: [consent]",
        "    requires_forms: [consent]\n"
        "    condition: \"first_contact.gender = 'x' and consent.colour = 'red'\"\n"
        "    explain: {en: Red, lt: Raudona}",
    )
    [problem] = problems_of(text)
    # The unknown name starts at column 32 of the expression, whose quote is at column 16.
    assert problem.startswith("workflows/tiny.yaml:21:48: ")
    assert "consent.colour" in problem


def test_a_condition_must_name_the_forms_it_reads() -> None:
    text = VALID.replace(
        "    requires_forms: [consent]",
        "    requires_forms: [consent]\n    condition: \"best_interests.decision = 'approved'\"\n"
        "    explain: {en: Approved, lt: Patvirtinta}",
    )
    assert problems_of(text) == [
        "workflows/tiny.yaml:21:16: the condition reads form 'best_interests', "
        "which requires_forms does not list"
    ]


def test_every_problem_is_reported_at_once() -> None:
    text = VALID.replace("forms: [consent]", "forms: [consnet]").replace(
        "roles: [supervisor]", "roles: [superviser]"
    )
    assert problems_of(text) == [
        "workflows/tiny.yaml:9:13: unknown form 'consnet'",
        "workflows/tiny.yaml:19:13: unknown role 'superviser'",
        "workflows/tiny.yaml:20:22: unknown form 'consnet'",
    ]


def test_track_set_needs_one_catch_all_and_unique_ids() -> None:
    first = load_workflow(VALID, file="workflows/a.yaml", forms=FORMS)
    second = load_workflow(VALID, file="workflows/b.yaml", forms=FORMS)
    only_one = "only one track may have no applies_when; these have none: tiny, tiny"
    assert [str(p) for p in check_track_set([first, second])] == [
        f"workflows/a.yaml:1:5: {only_one}",
        f"workflows/b.yaml:1:5: {only_one}",
        "workflows/b.yaml:1:5: the track id 'tiny' is also used in workflows/a.yaml",
    ]


def test_track_set_without_a_catch_all() -> None:
    claims = VALID.replace(
        "initial: open", 'applies_when: "first_contact.age_years < 18"\ninitial: open'
    )
    workflow = load_workflow(claims, file="workflows/a.yaml", forms=FORMS)
    [problem] = check_track_set([workflow])
    assert "no track catches every other case" in str(problem)


def test_two_claiming_tracks_may_not_share_a_priority() -> None:
    def claiming(track_id: str) -> str:
        return VALID.replace("id: tiny", f"id: {track_id}").replace(
            "initial: open",
            'applies_when: "first_contact.age_years < 18"\npriority: 5\ninitial: open',
        )

    first = load_workflow(claiming("one"), file="workflows/one.yaml", forms=FORMS)
    second = load_workflow(claiming("two"), file="workflows/two.yaml", forms=FORMS)
    catch_all = load_workflow(VALID, file="workflows/tiny.yaml", forms=FORMS)
    assert [str(p) for p in check_track_set([first, second, catch_all])] == [
        "workflows/two.yaml:6:11: 'one' has priority 5 too: which applies first is unclear"
    ]
