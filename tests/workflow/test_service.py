"""Moving real cases through the shipped tracks, through the service and the database."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.orm import Session

from intake.accounts.models import Organisation, User
from intake.cases import service as cases
from intake.cases import stages as workflow_service
from intake.cases.access import CaseNotFound
from intake.cases.models import Case
from intake.cases.reasons import open_reason
from tests.cases.helpers import (
    GIRL_16,
    WOMAN_30,
    assign,
    audit_rows,
    history_of,
    open_case,
    publish_shipped,
    reload,
    submit,
)
from tests.conftest import SEALING, make_user


@pytest.fixture(autouse=True)
def shipped_definitions(db: Session) -> None:
    publish_shipped(db)


def fire(db: Session, case: Case, user: User, trigger: str, reason: str | None = None) -> Case:
    workflow_service.fire_transition(
        db=db,
        settings=SEALING,
        case=case,
        user=user,
        trigger=trigger,
        reason=reason,
        expected_row_version=case.row_version,
    )
    return reload(db, case)


STANDARD_START = ["consent", "first_contact", "urgent_needs"]
GIRLS_START = [*STANDARD_START, "guardian", "best_interests"]


def _walk(
    db: Session, case: Case, supervisor: User, colleague: User, steps: list[tuple]
) -> list[tuple[str, str, str]]:
    """Each step: forms to fill, team functions to add, trigger; returns what was fired."""
    fired = []
    for forms, functions, trigger in steps:
        for form in forms:
            submit(db, case, form, colleague, ANSWERS.get(form, {}))
        assign(db, supervisor, case, colleague, *functions)
        before = case.state
        case = fire(db, case, supervisor, trigger)
        fired.append((trigger, before, case.state))
    return fired


ANSWERS = {
    "consent": {"consent_services": True, "consent_return": "yes"},
    "safe_return_plan": {"return_country": "latvia", "wants_to_return": True},
    "first_contact": {"gender": "female", "age_years": 16, "given_name": "v1:token"},
    "best_interests": {"decision": "family_return"},
    "family_assessment": {"recommendation": "return_recommended"},
}

WALKS = {
    "standard-reintegration": (
        WOMAN_30,
        [
            (STANDARD_START, ["social_worker"], "move_to_housing"),
            (["housing_placement"], ["psychologist"], "start_psychological_support"),
            (["psychological_assessment"], [], "start_reintegration"),
            (["reintegration_plan"], [], "complete_reintegration"),
        ],
    ),
    "standard-safe-return": (
        WOMAN_30,
        [
            (STANDARD_START, ["social_worker"], "move_to_housing"),
            (["housing_placement"], ["psychologist"], "start_psychological_support"),
            (
                ["psychological_assessment", "safe_return_plan"],
                ["law_enforcement_liaison"],
                "start_safe_return",
            ),
            ([], [], "complete_safe_return"),
        ],
    ),
    "girls-reintegration": (
        GIRL_16,
        [
            (GIRLS_START, ["social_worker"], "move_to_specialised_housing"),
            (["housing_placement"], ["psychologist"], "start_psychological_support"),
            (["psychological_assessment"], ["pedagogue"], "start_education"),
            ([], [], "start_family_assessment"),
            (["family_assessment"], [], "start_reintegration"),
            (["reintegration_plan"], [], "complete_reintegration"),
        ],
    ),
    "girls-safe-return": (
        GIRL_16,
        [
            (GIRLS_START, ["social_worker"], "move_to_specialised_housing"),
            (["housing_placement"], ["psychologist"], "start_psychological_support"),
            (["psychological_assessment"], ["pedagogue"], "start_education"),
            ([], [], "start_family_assessment"),
            (
                ["family_assessment", "safe_return_plan"],
                ["law_enforcement_liaison"],
                "start_safe_return",
            ),
            ([], [], "complete_safe_return"),
        ],
    ),
}


@pytest.mark.parametrize("walk", list(WALKS))
def test_a_case_walks_its_track_from_first_to_last_stage_with_complete_history(
    db: Session, worker: User, supervisor: User, walk: str
) -> None:
    answers, steps = WALKS[walk]
    case = open_case(db, worker, answers)
    fired = _walk(db, case, supervisor, worker, steps)
    case = reload(db, case)
    assert case.state == "closed" and case.closed_at is not None
    assert [f[0] for f in fired] == [s[2] for s in steps]
    # Each move starts where the one before ended.
    assert fired[0][1] == "urgent_assistance"
    assert all(a[2] == b[1] for a, b in itertools.pairwise(fired))

    transitions = [r for r in history_of(db, case.id) if r.kind == "transition"]
    assert [(r.trigger, r.from_state, r.to_state) for r in transitions] == fired
    for row in transitions:
        assert (row.actor_id, row.actor_role) == (supervisor.id, "supervisor")
        assert row.workflow_version_id == case.workflow_version_id and row.at is not None
    assert history_of(db, case.id)[0].kind == "created"
    ok = [e for e in audit_rows(db, case.id, "case.transition") if e.outcome == "ok"]
    assert [e.detail for e in ok] == [f"trigger={f[0]}" for f in fired]
    # Nothing leaves a closed case.
    day = case.created_at.date()
    assert workflow_service.actions_for(db=db, case=case, user=supervisor, today=day) == []


def _refused(
    db: Session, case: Case, user: User, trigger: str, reason: str | None = None
) -> workflow_service.TransitionNotAllowed:
    before = (case.state, case.row_version, len(history_of(db, case.id)))
    refusals = len([e for e in audit_rows(db, case.id) if e.outcome == "refused"])
    with pytest.raises(workflow_service.TransitionNotAllowed) as caught:
        workflow_service.fire_transition(
            db=db,
            settings=SEALING,
            case=case,
            user=user,
            trigger=trigger,
            reason=reason,
            expected_row_version=case.row_version,
        )
    db.rollback()  # what the request would do: nothing pending survives
    case = reload(db, case)
    assert (case.state, case.row_version, len(history_of(db, case.id))) == before
    refused = [e for e in audit_rows(db, case.id) if e.outcome == "refused"]
    assert len(refused) == refusals + 1
    assert refused[-1].actor_id == user.id and caught.value.code in refused[-1].detail
    return caught.value


def test_each_missing_form_and_team_member_is_named(
    db: Session, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    submit(db, case, "consent", worker)
    refusal = _refused(db, case, supervisor, "move_to_housing")
    assert refusal.code == "guard_failed"
    assert refusal.reasons == [
        "Needs: First contact form",
        "Needs: Urgent assistance form",
        "Needs a social worker on the team",
    ]


def test_a_missing_psychologist_is_named(db: Session, worker: User, supervisor: User) -> None:
    case = open_case(db, worker)
    for form in STANDARD_START:
        submit(db, case, form, worker)
    assign(db, supervisor, case, worker, "social_worker")
    case = fire(db, case, supervisor, "move_to_housing")
    submit(db, case, "housing_placement", worker)
    refusal = _refused(db, case, supervisor, "start_psychological_support")
    assert refusal.reasons == ["Needs a psychologist on the team"]


def test_a_condition_on_the_answers_holds_the_case_back(
    db: Session, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker, GIRL_16)
    for form in GIRLS_START:
        submit(db, case, form, worker, {"decision": "reassess"} if form == "best_interests" else {})
    assign(db, supervisor, case, worker, "social_worker")
    refusal = _refused(db, case, supervisor, "move_to_specialised_housing")
    # The condition in plain words, and the form whose answers decide it.
    assert refusal.reasons == [
        "The best-interests assessment must record a decision other than "
        "'Not yet: assess again' (answers of: Best-interests assessment)"
    ]
    # Filling the form again keeps the earlier one; the newest answer counts.
    submit(db, case, "best_interests", worker, {"decision": "stay_in_care"})
    assert fire(db, case, supervisor, "move_to_specialised_housing").state == "specialised_housing"


@pytest.mark.parametrize(
    ("trigger", "reason", "message"),
    [
        ("close", None, "A reason is required"),
        ("close", "   ", "A reason is required"),
        ("complete_reintegration", None, "Not possible from this stage"),
        ("no_such_trigger", None, "Not possible from this stage"),
    ],
)
def test_a_supervisor_is_told_what_is_wrong(
    db: Session, worker: User, supervisor: User, trigger: str, reason: str | None, message: str
) -> None:
    case = open_case(db, worker)
    assert _refused(db, case, supervisor, trigger, reason).reasons == [message]


def test_a_role_the_definition_does_not_name_is_refused(
    db: Session, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    for form in STANDARD_START:
        submit(db, case, form, worker)
    assign(db, supervisor, case, worker, "social_worker")
    refusal = _refused(db, case, worker, "move_to_housing")
    assert refusal.code == "role_not_allowed" and refusal.reasons == ["Your role may not do this"]
    _refused(db, case, worker, "close", "gone")
    # The worker may do what the definition lets them: record lost contact, with a reason.
    lost = fire(db, case, worker, "record_lost_contact", "no answer for two weeks")
    assert lost.state == "contact_lost_urgent_assistance"
    _refused(db, lost, worker, "resume")
    assert fire(db, lost, supervisor, "resume").state == "urgent_assistance"


def test_a_closed_case_does_not_move(db: Session, worker: User, supervisor: User) -> None:
    case = fire(db, open_case(db, worker), supervisor, "close", "moved abroad")
    assert case.closed_at is not None
    assert _refused(db, case, supervisor, "close", "again").reasons == [
        "Not possible from this stage"
    ]
    [row] = [r for r in history_of(db, case.id) if r.kind == "transition"]
    # Sealed at rest, bound to its row; opened only with the data keys.
    assert "moved abroad" not in row.reason
    assert open_reason(settings=SEALING, row=row) == "moved abroad"


def test_a_stale_page_is_a_conflict_and_changes_nothing(
    db: Session, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    shown = case.row_version
    case = fire(db, case, supervisor, "record_lost_contact", "phone off")
    before = (case.state, case.row_version, len(history_of(db, case.id)))
    with pytest.raises(workflow_service.ConflictError) as caught:
        workflow_service.fire_transition(
            db=db,
            settings=SEALING,
            case=case,
            user=supervisor,
            trigger="close",
            reason="duplicate",
            expected_row_version=shown,
        )
    assert str(caught.value) == ("This case was changed by someone else. Reload to see the change.")
    case = reload(db, case)
    assert (case.state, case.row_version, len(history_of(db, case.id))) == before
    assert audit_rows(db, case.id, "case.transition")[-1].detail == "conflict"


def test_a_case_not_visible_to_the_user_cannot_be_moved(
    db: Session, worker: User, other_org: Organisation
) -> None:
    case = open_case(db, worker)
    stranger = make_user(db, other_org, "supervisor")
    with pytest.raises(CaseNotFound):
        workflow_service.fire_transition(
            db=db,
            settings=SEALING,
            case=case,
            user=stranger,
            trigger="close",
            reason="x",
            expected_row_version=case.row_version,
        )
    assert reload(db, case).state == "urgent_assistance"


def test_sensitive_answers_are_never_readable_by_the_workflow(db: Session, worker: User) -> None:
    case = open_case(db, worker, GIRL_16)
    submit(db, case, "first_contact", worker, ANSWERS["first_contact"])
    facts = cases.case_facts(db=db, case=case, today=case.created_at.date())
    assert facts.answers == {"first_contact.gender": "female", "first_contact.age_years": 16}
    assert facts.completed_forms == {"first_contact"}


def test_actions_show_what_blocks_them_for_this_role_only(
    db: Session, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker)
    mine = workflow_service.actions_for(db=db, case=case, user=worker, today=case.created_at.date())
    assert [a.action.trigger for a in mine] == ["record_lost_contact"]
    theirs = {
        a.action.trigger: a
        for a in workflow_service.actions_for(
            db=db, case=case, user=supervisor, today=case.created_at.date()
        )
    }
    assert set(theirs) == {"move_to_housing", "record_lost_contact", "close"}
    assert "Needs a social worker on the team" in theirs["move_to_housing"].reasons
    assert theirs["close"].action.ready and theirs["close"].reasons == ()


# --- changing track --------------------------------------------------------------------


def _change(db: Session, case: Case, user: User, **overrides: object) -> Case:
    values: dict[str, object] = {
        "workflow_key": "young_girls",
        "state": "urgent_assistance",
        "reason": "age confirmed by a document: 16",
        "expected_row_version": case.row_version,
    }
    values.update(overrides)
    workflow_service.change_track(db=db, settings=SEALING, case=case, user=user, **values)  # type: ignore[arg-type]
    return reload(db, case)


def test_a_supervisor_moves_a_case_to_another_track_with_a_reason(
    db: Session, worker: User, supervisor: User
) -> None:
    case = open_case(db, worker, WOMAN_30)
    old_version = case.workflow_version_id
    moved = _change(db, case, supervisor)
    assert (moved.track, moved.state) == ("young_girls", "urgent_assistance")
    assert moved.workflow_version_id != old_version
    row = history_of(db, case.id)[-1]
    assert (row.kind, open_reason(settings=SEALING, row=row), row.actor_id) == (
        "track_changed",
        "age confirmed by a document: 16",
        supervisor.id,
    )
    assert row.workflow_version_id == moved.workflow_version_id
    assert audit_rows(db, case.id, "case.track_changed")[-1].outcome == "ok"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reason": " "}, "A reason is required"),
        ({"workflow_key": "standard"}, "The case is already on this track."),
        ({"workflow_key": "nowhere"}, "Choose a track from the list."),
        ({"state": "closed"}, "Choose a stage of the new track from the list."),
        ({"state": "limbo"}, "Choose a stage of the new track from the list."),
    ],
)
def test_a_track_change_is_refused_with_a_reason(
    db: Session, worker: User, supervisor: User, overrides: dict[str, object], message: str
) -> None:
    case = open_case(db, worker, WOMAN_30)
    with pytest.raises(workflow_service.TrackChangeRefused, match=message):
        _change(db, case, supervisor, **overrides)
    case = reload(db, case)
    assert (case.track, case.row_version) == ("standard", 1)
    assert audit_rows(db, case.id, "case.track_changed")[-1].outcome == "refused"


def test_only_a_supervisor_changes_track(db: Session, worker: User) -> None:
    case = open_case(db, worker, WOMAN_30)
    with pytest.raises(cases.NotPermitted):
        _change(db, case, worker)
    assert reload(db, case).track == "standard"
