"""Case rules at their edges: the overdue cut-off, activity on a form filled in a case,
consent checked again when the intake form opens a case, a posted review digest of any text."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.accounts.models import User
from intake.audit.models import AuditEvent
from intake.cases import caseload, rules
from intake.cases import service as cases
from intake.cases.intake import INTAKE_FORM
from intake.cases.models import Case, Intake
from intake.db import utcnow
from intake.filling import service as forms
from intake.filling.models import Submission
from intake.i18n import set_locale
from tests.conftest import login

from .flow import CONSENT_GIVEN, MEETING, SITUATION, WOMAN, fill_pages, give_consent, review
from .flow import submit as submit_page
from .helpers import history_of, open_case, reload, submit


def _overdue_ids(db: Session, user: User, now: dt.datetime) -> set[str]:
    found = caseload.page(db=db, user=user, filters=caseload.Filters(tab="overdue"), now=now)
    return {row.id for row in found.rows}


def _row(db: Session, user: User, case: Case, now: dt.datetime) -> caseload.Row:
    rows = caseload.page(db=db, user=user, filters=caseload.Filters(tab="mine"), now=now).rows
    return next(row for row in rows if row.id == case.id)


def test_a_case_is_overdue_from_the_first_moment_of_day_sla_plus_one(
    db: Session, worker: User
) -> None:
    case = open_case(db, worker)
    workflow = cases.workflow_of(db=db, case=case)
    name, sla = next(
        (n, s.sla_days) for n, s in workflow.states.items() if s.sla_days and not s.final
    )
    now = utcnow()
    case.state = name
    case.state_entered_at = now - dt.timedelta(days=sla + 1)
    db.commit()
    assert case.id in _overdue_ids(db, worker, now)
    assert _row(db, worker, case, now).overdue
    assert _row(db, worker, case, now).days_in_stage == sla + 1
    case.state_entered_at = now - dt.timedelta(days=sla + 1) + dt.timedelta(seconds=1)
    db.commit()
    assert case.id not in _overdue_ids(db, worker, now)
    assert not _row(db, worker, case, now).overdue
    assert _row(db, worker, case, now).days_in_stage == sla


def test_the_python_check_and_the_sql_condition_agree_at_the_cut_off() -> None:
    now = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)
    cutoff = rules.overdue_cutoff(sla_days=3, now=now)
    assert cutoff == dt.datetime(2024, 3, 6, 12, tzinfo=dt.UTC)
    assert rules.is_overdue(entered_at=cutoff, sla_days=3, closed=False, now=now)
    later = cutoff + dt.timedelta(microseconds=1)
    assert not rules.is_overdue(entered_at=later, sla_days=3, closed=False, now=now)
    assert not rules.is_overdue(entered_at=cutoff, sla_days=3, closed=True, now=now)
    assert not rules.is_overdue(entered_at=cutoff, sla_days=None, closed=False, now=now)


def test_a_form_filled_in_a_case_is_activity_on_the_case(
    db: Session, client: TestClient, worker: User
) -> None:
    case = open_case(db, worker)
    case.last_activity_at = utcnow() - dt.timedelta(days=3)
    db.commit()
    version = case.row_version
    login(client, worker.username)
    draft = forms.start_filling(
        db=db,
        settings=client.app.state.settings,  # type: ignore[attr-defined]
        user=worker,
        form_key="consent",
        case_id=case.id,
    )
    fill_pages(client, draft.client_id, CONSENT_GIVEN)
    done = submit_page(client, draft.client_id)
    assert (done.status_code, done.headers["location"]) == (303, f"/cases/{case.id}")
    submission = db.execute(
        select(Submission).where(Submission.client_id == draft.client_id)
    ).scalar_one()
    case = reload(db, case)
    assert case.last_activity_at == submission.submitted_at
    assert case.row_version == version  # activity, not a change someone must reload for


def test_the_intake_form_opens_no_case_without_consent_to_services(
    db: Session, client: TestClient, worker: User
) -> None:
    login(client, worker.username)
    refused = [CONSENT_GIVEN[0], {**CONSENT_GIVEN[1], "consent_services": "no"}]
    give_consent(client, refused)
    intake = db.execute(select(Intake)).scalar_one()
    # The intake form's filling made by hand, as a forged or raced request could.
    forms.start_filling(
        db=db,
        settings=client.app.state.settings,  # type: ignore[attr-defined]
        user=worker,
        form_key=INTAKE_FORM,
        client_id=intake.intake_client_id,
    )
    fill_pages(client, intake.intake_client_id, [MEETING, WOMAN, SITUATION])
    refused_submit = submit_page(client, intake.intake_client_id)
    assert refused_submit.status_code == 404
    db.expire_all()
    assert db.execute(select(Case)).scalars().all() == []
    assert db.execute(select(Intake.case_id)).scalar_one() is None


def test_a_review_digest_of_any_text_is_a_changed_review_not_an_error(
    db: Session, client: TestClient, worker: User
) -> None:
    login(client, worker.username)
    next_url = give_consent(client)
    intake_id = next_url.removeprefix("/fill/")
    fill_pages(client, intake_id, [MEETING, WOMAN, SITUATION])
    _page, fields = review(client, intake_id)
    for digest in ("é" * 64, "Ольга", "\u2028"):
        answered = client.post(f"/fill/{intake_id}/submit", data={**fields, "_reviewed": digest})
        assert answered.status_code == 409, digest
    assert forms.same_digest("abc", "abc") and not forms.same_digest("abc", "ab\u00e9")
    db.expire_all()
    assert db.execute(select(Case)).scalars().all() == []


def test_the_sentences_a_person_reads_when_refused() -> None:
    assert str(rules.NotPermitted()) == "Your role may not do this"
    assert rules.team_need("social_worker") == "Needs a social worker on the team"
    assert rules.team_need(None) == "Needs another member on the team"
    assert rules.team_need("juggler") == "Needs another member on the team"


def test_a_workflow_reads_only_the_plain_answers_that_were_given(db: Session, worker: User) -> None:
    case = open_case(db, worker)
    answers = {"age": 16, "accompanying_children": None, "family_name": "sealed", "stray": 1}
    submission = submit(db, case, "first_contact", worker, answers)
    # Sensitive answers, unanswered questions and names the form does not have stay out.
    assert rules.readable_answers(db=db, submission=submission) == {"first_contact.age": 16}
    submission.answers = ["not", "a", "mapping"]
    assert rules.readable_answers(db=db, submission=submission) == {}
    db.rollback()


def test_a_stage_without_a_limit_is_never_overdue(db: Session, worker: User) -> None:
    limited, unlimited = open_case(db, worker), open_case(db, worker)
    workflow = cases.workflow_of(db=db, case=limited)
    open_states = [(n, s) for n, s in workflow.states.items() if not s.final]
    name = next(n for n, s in open_states if s.sla_days)
    free = next(n for n, s in open_states if not s.sla_days)
    now = utcnow()
    long_ago = now - dt.timedelta(days=400)
    limited.state, limited.state_entered_at = name, long_ago
    unlimited.state, unlimited.state_entered_at = free, long_ago
    db.commit()
    assert _overdue_ids(db, worker, now) == {limited.id}
    assert rules.days_in_stage(entered_at=now, now=now) == 0


def test_activity_on_one_case_touches_that_case_only(db: Session, worker: User) -> None:
    touched, other = open_case(db, worker), open_case(db, worker)
    before = utcnow() - dt.timedelta(days=2)
    touched.last_activity_at = other.last_activity_at = before
    db.commit()
    rules.touch_case(db=db, case_id=touched.id, at=before - dt.timedelta(days=1))
    db.commit()
    assert reload(db, touched).last_activity_at == before  # never moved back
    now = utcnow()
    rules.touch_case(db=db, case_id=touched.id, at=now)
    db.commit()
    assert (reload(db, touched).last_activity_at, reload(db, other).last_activity_at) == (
        now,
        before,
    )


def test_a_refusal_is_audited_with_who_what_and_why(db: Session, worker: User) -> None:
    case = open_case(db, worker)
    rules.refuse(db=db, actor_id=worker.id, case_id=case.id, action="case.note_added", code="x")
    row = db.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert (row.actor_id, row.action, row.object_type, row.object_id) == (
        worker.id,
        "case.note_added",
        "case",
        case.id,
    )
    assert (row.outcome, row.detail) == ("refused", "x")


def test_labels_and_languages_follow_the_reader() -> None:
    assert rules.function_label("social_worker") == "Social worker"
    assert rules.function_label("juggler") == "juggler"
    set_locale("lt")
    assert rules.reader_language(["en", "lt"]) == "lt"
    set_locale("ru")
    assert rules.reader_language(["en", "lt"]) == "en"


def test_a_label_is_in_the_readers_language_else_the_definitions_first() -> None:
    labels = {"lt": "Skubi pagalba", "en": "Urgent assistance"}
    assert rules.label_in({}, ["en"]) == ""
    set_locale("lt")
    assert rules.label_in(labels, ["en", "lt"]) == "Skubi pagalba"
    set_locale("ru")
    assert rules.label_in(labels, ["en", "lt"]) == "Urgent assistance"
    assert rules.label_in({"pl": "Pomoc"}, ["en"]) == "Pomoc"


def test_a_history_row_names_the_role_and_the_workflow_version(db: Session, worker: User) -> None:
    case = open_case(db, worker)
    [created, *_] = history_of(db, case.id)
    assert (created.actor_id, created.actor_role) == (worker.id, "outreach_worker")
    assert created.workflow_version_id == case.workflow_version_id


def test_a_change_that_lost_a_race_is_refused_and_audited_only_when_asked(
    db: Session, worker: User
) -> None:
    case = open_case(db, worker)
    for audit_conflict in (False, True):
        # Someone else's commit lands between reading the case and saving it.
        db.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(row_version=Case.row_version + 1)
            .execution_options(synchronize_session=False)
        )
        case.last_activity_at = utcnow()
        with pytest.raises(rules.ConflictError):
            rules.record_case_event(
                db=db, case=case, actor=worker, action="case.test", audit_conflict=audit_conflict
            )
        case = reload(db, case)
    rows = db.execute(select(AuditEvent).where(AuditEvent.action == "case.test")).scalars().all()
    assert [(r.outcome, r.detail, r.object_type, r.object_id) for r in rows] == [
        ("refused", "conflict", "case", case.id)
    ]
    rules.record_case_event(db=db, case=case, actor=worker, action="case.test", detail="ok")
    saved = db.execute(
        select(AuditEvent).where(AuditEvent.action == "case.test", AuditEvent.detail == "ok")
    ).scalar_one()
    assert (saved.object_type, saved.object_id, saved.actor_id) == ("case", case.id, worker.id)
