"""Filling service: drafts page by page, one submission per client id, sealed answers at rest."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.cases.models import Case
from intake.config import Settings
from intake.definitions import service as definitions
from intake.definitions.models import DefinitionVersion
from intake.filling import service as forms
from intake.filling import submissions
from intake.filling.models import FormDraft, Submission
from intake.filling.service import (
    AnswersChanged,
    FillingNotFound,
    FormInvalid,
    SubmissionConflict,
)
from tests.conftest import make_user

GIVEN = "Zydrunaite-Given"  # sensitive: must never appear in a raw row
FAMILY = "Qwertaite-Family"
MEETING = {"contact_date": "2024-03-01", "where_met": "outreach", "interpreter_used": "no"}
PERSON = {
    "given_name": GIVEN,
    "family_name": FAMILY,
    "birth_date": "1990-05-04",
    "gender": "female",
    "languages_spoken": ["russian", "lithuanian"],
}
SITUATION = {"immediate_needs": ["food", "shelter"], "safety_risk": "low"}
CLIENT = "client-id-0123456789abcd"


@pytest.fixture
def published(db: Session) -> DefinitionVersion:
    definitions.sync_files(db=db)
    version = definitions.latest(db=db, kind="form", key="first_contact")
    assert version is not None
    return version


def start(db: Session, settings: Settings, user: User, client_id: str = CLIENT, **kw: Any):
    return forms.start_filling(
        db=db, settings=settings, user=user, form_key="first_contact", client_id=client_id, **kw
    )


def save(db: Session, settings: Settings, user: User, posted: dict, move: str = "next", **kw):
    return forms.save_page(
        db=db,
        settings=settings,
        user=user,
        client_id=kw.get("client_id", CLIENT),
        posted=posted,
        move=move,  # type: ignore[arg-type]
    )


def fill_all(db: Session, settings: Settings, user: User, client_id: str = CLIENT) -> None:
    start(db, settings, user, client_id)
    for posted in (MEETING, PERSON, SITUATION, {}):
        saved = save(db, settings, user, posted, client_id=client_id)
        assert saved.errors == {}


def submit_reviewed(db: Session, settings: Settings, user: User, client_id: str = CLIENT):
    filling = forms.open_filling(db=db, settings=settings, user=user, client_id=client_id)
    digest = forms.review(settings=settings, filling=filling).digest
    return forms.submit_draft(
        db=db, settings=settings, user=user, client_id=client_id, reviewed=digest
    )


def raw_answers(db: Session, table: str, row_id: str) -> str:
    value = db.execute(
        text(f"SELECT answers FROM {table} WHERE id = :id"),  # noqa: S608 - fixed table names
        {"id": row_id},
    ).scalar_one()
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def count(db: Session, model: type) -> int:
    return db.execute(select(func.count()).select_from(model)).scalar_one()


# --- drafts ----------------------------------------------------------------------------


def test_a_filling_starts_on_the_newest_version_and_first_page(db, settings, worker, published):
    draft = start(db, settings, worker, language="ru")
    assert draft.form_version_id == published.id
    assert draft.content_language == "ru"
    assert draft.page_index == 0
    assert draft.owner_id == worker.id and draft.organisation_id == worker.organisation_id


def test_starting_twice_with_one_client_id_resumes_the_same_draft(db, settings, worker, published):
    first = start(db, settings, worker)
    again = start(db, settings, worker)
    assert again.id == first.id
    assert count(db, FormDraft) == 1


def test_a_client_id_of_someone_else_is_not_found(db, settings, worker, org, published):
    start(db, settings, worker)
    colleague = make_user(db, org, "outreach_worker", "colleague")
    with pytest.raises(FillingNotFound):
        start(db, settings, colleague)
    with pytest.raises(FillingNotFound):
        forms.open_filling(db=db, settings=settings, user=colleague, client_id=CLIENT)
    with pytest.raises(FillingNotFound):
        save(db, settings, colleague, MEETING)
    assert forms.my_drafts(db=db, user=colleague) == []
    assert [d.client_id for d, _form in forms.my_drafts(db=db, user=worker)] == [CLIENT]


def test_an_unknown_form_cannot_be_started(db, settings, worker, published):
    with pytest.raises(FillingNotFound):
        forms.start_filling(db=db, settings=settings, user=worker, form_key="no_such_form")


def test_a_page_with_errors_keeps_the_draft_as_it_was(db, settings, worker, published):
    start(db, settings, worker)
    saved = save(db, settings, worker, {"contact_date": "2999-01-01", "where_met": "nowhere"})
    assert set(saved.errors) == {"contact_date", "where_met"}
    assert saved.errors["contact_date"] == "The date cannot be in the future."
    filling = forms.open_filling(db=db, settings=settings, user=worker, client_id=CLIENT)
    assert filling.draft.page_index == 0
    assert filling.answers == {}


def test_each_page_is_kept_and_the_next_one_opens(db, settings, worker, published):
    start(db, settings, worker)
    save(db, settings, worker, MEETING)
    saved = save(db, settings, worker, PERSON)
    assert saved.errors == {}
    # A fresh read, as after a phone that died: the saved pages are all there.
    db.expire_all()
    filling = forms.open_filling(db=db, settings=settings, user=worker, client_id=CLIENT)
    assert filling.page is not None and filling.page.name == "situation"
    assert filling.page_number == 3
    assert filling.answers["given_name"] == GIVEN
    assert filling.answers["interpreter_used"] is False
    assert filling.answers["languages_spoken"] == ["lithuanian", "russian"]  # form's order


def test_going_back_keeps_good_answers_and_forgets_only_wrong_ones(db, settings, worker, published):
    start(db, settings, worker)
    save(db, settings, worker, MEETING)
    saved = save(db, settings, worker, {**PERSON, "birth_date": "not a date"}, move="back")
    assert saved.errors == {}
    filling = saved.filling
    assert filling.draft.page_index == 0
    assert filling.answers["given_name"] == GIVEN
    assert "birth_date" not in filling.answers


def test_sensitive_draft_answers_are_encrypted_at_rest(db, settings, worker, published):
    draft = start(db, settings, worker)
    save(db, settings, worker, MEETING)
    save(db, settings, worker, PERSON)
    raw = raw_answers(db, "form_drafts", draft.id)
    assert "female" in raw  # the column read is the one holding the answers
    for secret in (GIVEN, FAMILY, "1990-05-04"):
        assert secret not in raw
    filling = forms.open_filling(db=db, settings=settings, user=worker, client_id=CLIENT)
    assert (filling.answers["given_name"], filling.answers["birth_date"]) == (GIVEN, "1990-05-04")


def test_a_draft_stays_on_its_version_and_new_ones_take_the_newest(db, settings, worker, published):
    old = start(db, settings, worker)
    source = published.source_text.replace("version: 1", "version: 2", 1)
    newer = definitions.publish(
        db=db, kind="form", text=source, file="forms/first_contact.yaml", actor=None
    )
    db.commit()
    fresh = start(db, settings, worker, client_id="client-id-second-filling")
    assert fresh.form_version_id == newer.id
    resumed = forms.open_filling(db=db, settings=settings, user=worker, client_id=old.client_id)
    assert resumed.version.id == published.id and resumed.form.version == 1


def test_the_content_language_is_one_of_the_forms(db, settings, worker, published):
    start(db, settings, worker)
    filling = forms.set_content_language(
        db=db, settings=settings, user=worker, client_id=CLIENT, language="lt"
    )
    assert filling.draft.content_language == "lt"
    with pytest.raises(ValueError, match="not available"):
        forms.set_content_language(
            db=db, settings=settings, user=worker, client_id=CLIENT, language="xx"
        )


# --- submission --------------------------------------------------------------------------


def test_submitting_stores_who_what_when_and_removes_the_draft(db, settings, worker, published):
    fill_all(db, settings, worker)
    submission = submit_reviewed(db, settings, worker)
    assert submission.form_key == "first_contact"
    assert submission.form_version_id == published.id
    assert submission.submitted_by_id == worker.id
    assert submission.organisation_id == worker.organisation_id
    assert submission.language == "en"
    assert submission.submitted_at is not None
    assert count(db, FormDraft) == 0
    answers = forms.submission_answers(db=db, settings=settings, submission=submission)
    assert answers["given_name"] == GIVEN
    assert answers["age_years"] >= 33  # calculated from the birth date


def test_sensitive_submission_answers_are_encrypted_at_rest(db, settings, worker, published):
    fill_all(db, settings, worker)
    submission = submit_reviewed(db, settings, worker)
    raw = raw_answers(db, "submissions", submission.id)
    assert "shelter" in raw
    for secret in (GIVEN, FAMILY, "1990-05-04"):
        assert secret not in raw


def test_a_retry_returns_the_same_submission_and_stores_nothing_twice(
    db, settings, worker, published
):
    fill_all(db, settings, worker)
    filling = forms.open_filling(db=db, settings=settings, user=worker, client_id=CLIENT)
    digest = forms.review(settings=settings, filling=filling).digest
    first = forms.submit_draft(
        db=db, settings=settings, user=worker, client_id=CLIENT, reviewed=digest
    )
    again = forms.submit_draft(
        db=db, settings=settings, user=worker, client_id=CLIENT, reviewed=digest
    )
    assert again.id == first.id
    assert count(db, Submission) == 1


def test_the_same_id_with_other_answers_is_a_conflict(db, settings, worker, published):
    fill_all(db, settings, worker)
    submit_reviewed(db, settings, worker)
    with pytest.raises(SubmissionConflict, match="already submitted with different answers"):
        forms.submit_draft(
            db=db, settings=settings, user=worker, client_id=CLIENT, reviewed="0" * 64
        )
    version = definitions.latest(db=db, kind="form", key="first_contact")
    assert version is not None
    other = {**MEETING, **PERSON, **SITUATION, "given_name": "Someone else"}
    with pytest.raises(SubmissionConflict):
        forms.submit(
            db=db,
            settings=settings,
            user=worker,
            version=version,
            client_id=CLIENT,
            answers=other,
            language="en",
        )
    assert count(db, Submission) == 1


def test_a_submission_racing_on_the_unique_id_returns_the_stored_one(
    db, settings, worker, published, monkeypatch
):
    answers = {**MEETING, **PERSON, **SITUATION}
    first = forms.submit(
        db=db,
        settings=settings,
        user=worker,
        version=published,
        client_id=CLIENT,
        answers=answers,
        language="en",
    )
    db.commit()
    # The second request looked before the first one's row was there.
    real = forms.submission_by_client_id
    looked: list[str] = []

    def misses_once(db: Session, client_id: str) -> Submission | None:
        looked.append(client_id)
        return None if len(looked) == 1 else real(db, client_id)

    monkeypatch.setattr(submissions, "submission_by_client_id", misses_once)
    again = forms.submit(
        db=db,
        settings=settings,
        user=worker,
        version=published,
        client_id=CLIENT,
        answers=answers,
        language="en",
    )
    assert again.id == first.id
    assert len(looked) == 2  # the insert hit the unique constraint and looked again
    assert count(db, Submission) == 1


def test_answers_to_questions_not_asked_are_dropped(db, settings, worker, published):
    answers = {
        **MEETING,
        **PERSON,
        "age": 41,  # asked only when the birth date is unknown
        "immediate_needs": ["food"],
        "safety_risk": "low",
        "safety_notes": "only asked when the risk is high",
        "has_children_with": "no",
        "accompanying_children": [{"child_age": 3}],
    }
    submission = forms.submit(
        db=db,
        settings=settings,
        user=worker,
        version=published,
        client_id=CLIENT,
        answers=answers,
        language="en",
    )
    stored = forms.submission_answers(db=db, settings=settings, submission=submission)
    assert "age" not in stored
    assert "safety_notes" not in stored
    assert "accompanying_children" not in stored
    assert stored["has_children_with"] is False


def test_an_invalid_filling_is_refused_whole(db, settings, worker, published):
    with pytest.raises(FormInvalid) as refused:
        forms.submit(
            db=db,
            settings=settings,
            user=worker,
            version=published,
            client_id=CLIENT,
            answers={**MEETING, "unexpected": "x"},
            language="en",
        )
    assert {"given_name", "gender", "unexpected"} <= set(refused.value.errors)
    assert count(db, Submission) == 0


def test_a_draft_changed_after_review_is_not_submitted(db, settings, worker, published):
    fill_all(db, settings, worker)
    filling = forms.open_filling(db=db, settings=settings, user=worker, client_id=CLIENT)
    digest = forms.review(settings=settings, filling=filling).digest
    # Another tab changes an answer after this one showed the review.
    forms.go_to_page(db=db, settings=settings, user=worker, client_id=CLIENT, page_index=3)
    save(db, settings, worker, {"worker_notes": "changed in another tab"})
    with pytest.raises(AnswersChanged):
        forms.submit_draft(db=db, settings=settings, user=worker, client_id=CLIENT, reviewed=digest)
    assert count(db, Submission) == 0
    assert count(db, FormDraft) == 1


def _case(db: Session, owner: User, workflow: DefinitionVersion) -> Case:
    case = Case(
        reference=f"T-{owner.username[:10]}",
        organisation_id=owner.organisation_id,
        owner_id=owner.id,
        workflow_version_id=workflow.id,
        track=workflow.key,
        state="urgent_assistance",
    )
    db.add(case)
    db.flush()
    return case


def test_a_form_inside_a_case_keeps_its_case(db, settings, worker, published):
    # Whether the user may see the case is decided above (intake.cases.case_forms).
    workflow = definitions.latest_of_kind(db=db, kind="workflow")[0]
    mine = _case(db, worker, workflow)
    answers = {**MEETING, **PERSON, **SITUATION}
    submission = forms.submit(
        db=db,
        settings=settings,
        user=worker,
        version=published,
        client_id=CLIENT,
        answers=answers,
        language="en",
        case_id=mine.id,
    )
    assert submission.case_id == mine.id
